namespace Totoro.Kernel;

/// <summary>Death watch: who watches this cell, whom it watches, and turning notifications into <see cref="Terminated"/>.</summary>
internal sealed partial class ActorCell
{
    public IActorRef Watch(IActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject is InternalActorRef target && !ReferenceEquals(target, this) && (Extras.Watching ??= []).Add(target))
        {
            target.SendSystemMessage(new WatchRequest(target, this));
        }
        return subject;
    }

    public void Unwatch(IActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject is InternalActorRef target && _extras?.Watching is { } watching && watching.Remove(target))
        {
            target.SendSystemMessage(new UnwatchRequest(target, this));
        }
    }

    private void OnWatchRequest(WatchRequest request)
    {
        if (!ReferenceEquals(request.Watchee, this))
        {
            return;
        }
        if (IsTerminated)
        {
            request.Watcher.SendSystemMessage(new DeathWatchNotification(this, addressTerminated: false));
            return;
        }
        (Extras.WatchedBy ??= []).Add(request.Watcher);
    }

    private void OnUnwatchRequest(UnwatchRequest request) => _extras?.WatchedBy?.Remove(request.Watcher);

    private void OnDeathWatchNotification(DeathWatchNotification notification)
    {
        if (notification.Actor is not InternalActorRef actor || _extras?.Watching is not { } watching || !watching.Remove(actor))
        {
            return;
        }
        if (_actor is null || Has(CellFlags.Terminating))
        {
            return;
        }
        _currentMessage = new Terminated(notification.Actor, notification.AddressTerminated);
        _currentSender = notification.Actor;
        try
        {
            DispatchToActor(_currentMessage);
        }
        finally
        {
            if (!Has(CellFlags.AwaitingAsync))
            {
                _currentMessage = null;
                _currentSender = null;
            }
        }
    }

    private void NotifyWatchersAndUnwatch()
    {
        if (_extras is not { } extras)
        {
            return;
        }
        if (extras.WatchedBy is { } watchedBy)
        {
            foreach (var watcher in watchedBy)
            {
                watcher.SendSystemMessage(new DeathWatchNotification(this, addressTerminated: false));
            }
            extras.WatchedBy = null;
        }
        if (extras.Watching is { } watching)
        {
            foreach (var watched in watching)
            {
                watched.SendSystemMessage(new UnwatchRequest(watched, this));
            }
            extras.Watching = null;
        }
    }
}
