namespace Totoro.Kernel;

/// <summary>Kernel-side view of every ref: it can also receive system messages. Equality is by path.</summary>
internal abstract class InternalActorRef : IActorRef
{
    public abstract ActorPath Path { get; }

    /// <summary>The system this ref belongs to (its clock and temp refs serve an Ask).</summary>
    internal abstract ActorSystem Owner { get; }

    public abstract void Tell(object message, IActorRef? sender = null);

    public abstract void SendSystemMessage(SystemMessage message);

    public override bool Equals(object? obj) => obj is IActorRef other && Path.Equals(other.Path);

    public override int GetHashCode() => Path.GetHashCode();

    public override string ToString() => Path.ToString();
}
