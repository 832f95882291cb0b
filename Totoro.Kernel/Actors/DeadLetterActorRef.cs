namespace Totoro.Kernel;

/// <summary>Where undeliverable messages go: published on the event stream as <see cref="DeadLetter"/>.</summary>
internal sealed class DeadLetterActorRef(ActorSystem system) : InternalActorRef
{
    private readonly ActorPath _path = new(system.Address, "/deadLetters");

    public override ActorPath Path => _path;

    internal override ActorSystem Owner => system;

    public override void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        system.PublishDeadLetter(message, sender, this);
    }

    public override void SendSystemMessage(SystemMessage message)
    {
        if (message is WatchRequest watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(watch.Watchee, addressTerminated: false));
        }
    }
}
