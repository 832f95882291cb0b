namespace Totoro.Kernel;

/// <summary>A handle to an actor, local or remote. Tell never blocks and never throws for a dead recipient (dead letters instead).</summary>
public interface IActorRef
{
    ActorPath Path { get; }

    void Tell(object message, IActorRef? sender = null);
}
