namespace Totoro.Kernel;

/// <summary>
/// An actor with one synchronous handler for every message and no handler table: what a <see cref="ReceiveActor"/>
/// with a single <c>ReceiveAny</c> does, without the per-instance list, handler object and delegate (~200 B). For
/// actors hosted by the hundred thousand (the ring simulator's nodes); others should prefer <see cref="ReceiveActor"/>.
/// </summary>
public abstract class UntypedActor : ActorBase
{
    /// <summary>Handles one message; call <see cref="ActorBase.Unhandled"/> for messages the actor does not understand.</summary>
    protected abstract void OnReceive(object message);

    internal sealed override Task? Dispatch(object message)
    {
        OnReceive(message);
        return null;
    }
}
