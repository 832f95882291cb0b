namespace Totoro.Kernel;

/// <summary>
/// One system's bridge to its transport: serializes outbound tells (unless the transport passes by reference),
/// resolves and delivers inbound ones, and carries death watch across nodes, including node-down.
/// </summary>
internal sealed class Remoting(ActorSystem system, ITransport transport) : ITransportListener
{
    private readonly Lock _lock = new();
    private Dictionary<Address, HashSet<(InternalActorRef Watcher, RemoteActorRef Watchee)>>? _watches;
    private bool _crashed;

    public ActorSystem System => system;

    public void Send(RemoteActorRef recipient, object message, IActorRef? sender)
    {
        var recipientPath = recipient.Path.ToString();
        var senderPath = sender?.Path.ToString();
        TransportEnvelope envelope;
        if (transport.PassByReference)
        {
            envelope = new TransportEnvelope(recipientPath, senderPath, "", ReadOnlyMemory<byte>.Empty, message);
        }
        else
        {
            var (manifest, bytes) = system.Serialization.Serialize(message);
            envelope = new TransportEnvelope(recipientPath, senderPath, manifest, bytes);
        }
        transport.Send(system.Address, recipient.Path.Address, envelope);
    }

    public void SendSystem(RemoteActorRef target, SystemMessage message)
    {
        switch (message)
        {
            case WatchRequest watch:
                bool firstOnNode;
                lock (_lock)
                {
                    _watches ??= [];
                    firstOnNode = !_watches.TryGetValue(target.Path.Address, out var set);
                    if (firstOnNode)
                    {
                        _watches[target.Path.Address] = set = [];
                    }
                    set!.Add((watch.Watcher, target));
                }
                Send(target, new RemoteWatch(target.Path.ToString(), watch.Watcher.Path.ToString(), Unwatch: false), null);
                if (firstOnNode)
                {
                    transport.MonitorPeer(system.Address, target.Path.Address, monitor: true);
                }
                break;
            case UnwatchRequest unwatch:
                ForgetWatch(unwatch.Watcher, target);
                Send(target, new RemoteWatch(target.Path.ToString(), unwatch.Watcher.Path.ToString(), Unwatch: true), null);
                break;
            case DeathWatchNotification notification:
                Send(target, new RemoteDeathNotice(notification.Actor.Path.ToString()), null);
                break;
            case Terminate:
                Send(target, PoisonPill.Instance, null);
                break;
        }
    }

    public void OnReceive(TransportEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        object message;
        ActorPath recipientPath;
        try
        {
            recipientPath = ActorPath.Parse(envelope.Recipient);
            message = envelope.Message ?? system.Serialization.Deserialize(envelope.Manifest, envelope.Payload.Span, system);
        }
        catch (Exception exception) when (exception is MessageSerializationException or FormatException)
        {
            KernelLog.InboundDeserializationFailed(system.Logger, envelope.Manifest, envelope.Recipient, exception);
            system.PublishDeadLetter(envelope, null, system.DeadLetters);
            return;
        }
        switch (message)
        {
            case RemoteWatch watch:
                OnRemoteWatch(watch);
                return;
            case RemoteDeathNotice notice:
                OnRemoteDeathNotice(recipientPath, notice);
                return;
        }
        var sender = envelope.Sender is null ? null : system.Resolve(envelope.Sender);
        switch (system.ResolveLocal(recipientPath.Elements))
        {
            case ActorCell cell:
                cell.TellLocal(message, sender);
                break;
            case { } other:
                other.Tell(message, sender);
                break;
            default:
                system.PublishDeadLetter(message, sender, new RemoteActorRef(recipientPath, this));
                break;
        }
    }

    /// <summary>A peer this node once watched came back (a new incarnation); monitoring outlives the watches so this is seen.</summary>
    public void OnNodeUp(Address node) => system.EventStream.Publish(new RemoteNodeUp(node));

    public void OnNodeDown(Address node)
    {
        HashSet<(InternalActorRef Watcher, RemoteActorRef Watchee)>? watches;
        lock (_lock)
        {
            watches = null;
            _watches?.Remove(node, out watches);
        }
        KernelLog.NodeDown(system.Logger, node, watches?.Count ?? 0);
        foreach (var (watcher, watchee) in watches ?? [])
        {
            watcher.SendSystemMessage(new DeathWatchNotification(watchee, addressTerminated: true));
        }
        system.EventStream.Publish(new RemoteNodeDown(node));
    }

    public void OnLocalCrash()
    {
        Volatile.Write(ref _crashed, true);
        system.Terminate();
    }

    /// <summary>
    /// Called when the system has stopped. A crashed node was already removed by the transport, and its address may
    /// by now belong to a new incarnation, which must stay bound.
    /// </summary>
    public void Unbind()
    {
        if (!Volatile.Read(ref _crashed))
        {
            transport.Unbind(system.Address);
        }
    }

    private void OnRemoteWatch(RemoteWatch watch)
    {
        var watcher = new RemoteActorRef(ActorPath.Parse(watch.Watcher), this);
        var watcheePath = ActorPath.Parse(watch.Watchee);
        if (system.ResolveLocal(watcheePath.Elements) is ActorCell watchee)
        {
            watchee.SendSystemMessage(watch.Unwatch ? new UnwatchRequest(watchee, watcher) : new WatchRequest(watchee, watcher));
        }
        else if (!watch.Unwatch)
        {
            Send(watcher, new RemoteDeathNotice(watch.Watchee), null);
        }
    }

    private void OnRemoteDeathNotice(ActorPath watcherPath, RemoteDeathNotice notice)
    {
        var watchee = new RemoteActorRef(ActorPath.Parse(notice.Watchee), this);
        if (system.ResolveLocal(watcherPath.Elements) is { } watcher)
        {
            ForgetWatch(watcher, watchee);
            watcher.SendSystemMessage(new DeathWatchNotification(watchee, addressTerminated: false));
        }
    }

    private void ForgetWatch(InternalActorRef watcher, RemoteActorRef watchee)
    {
        var lastOnNode = false;
        lock (_lock)
        {
            if (_watches is not null && _watches.TryGetValue(watchee.Path.Address, out var set) && set.Remove((watcher, watchee)) && set.Count == 0)
            {
                _watches.Remove(watchee.Path.Address);
                lastOnNode = true;
            }
        }
        if (lastOnNode)
        {
            transport.MonitorPeer(system.Address, watchee.Path.Address, monitor: false);
        }
    }
}
