namespace Totoro.Kernel;

/// <summary>
/// How to make an actor: an immutable recipe. <see cref="Dispatcher"/> names a dispatcher registered in
/// <see cref="ActorSystemSettings.Dispatchers"/>; under a deterministic world every name maps to the world.
/// <see cref="SupervisorStrategy"/> is how the created actor supervises its own children.
/// </summary>
public sealed record Props(Func<ActorBase> Factory, string? Dispatcher = null, SupervisorStrategy? SupervisorStrategy = null)
{
    public static Props Create<TActor>()
        where TActor : ActorBase, new() => new(static () => new TActor());

    public static Props Create(Func<ActorBase> factory) => new(factory);

    public Props WithDispatcher(string dispatcher) => this with { Dispatcher = dispatcher };

    public Props WithSupervisorStrategy(SupervisorStrategy strategy) => this with { SupervisorStrategy = strategy };
}
