using Microsoft.Extensions.Logging;

namespace Totoro.Kernel;

/// <summary>
/// The running actor's view of the kernel. It is an instance member of the actor, never ambient state,
/// so it stays correct after <c>await</c> inside an async handler.
/// </summary>
public interface IActorContext
{
    IActorRef Self { get; }

    /// <summary>The sender of the message being handled (held across awaits of an async handler).</summary>
    IActorRef? Sender { get; }

    IActorRef? Parent { get; }

    ActorSystem System { get; }

    Props Props { get; }

    /// <summary>The system's one random source (seeded and shared under the deterministic dispatcher).</summary>
    Random Random { get; }

    /// <summary>The system's one clock (virtual under the deterministic dispatcher).</summary>
    TimeProvider Time { get; }

    ILogger Log { get; }

    IActorRef ActorOf(Props props, string? name = null);

    /// <summary>Stops a child or the actor itself; the stop overtakes queued user messages.</summary>
    void Stop(IActorRef actor);

    /// <summary>Delivers <see cref="Terminated"/> once <paramref name="subject"/> stops (at once if it is already gone).</summary>
    IActorRef Watch(IActorRef subject);

    void Unwatch(IActorRef subject);

    IReadOnlyList<IActorRef> GetChildren();

    IActorRef? Child(string name);
}
