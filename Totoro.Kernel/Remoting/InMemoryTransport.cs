namespace Totoro.Kernel;

/// <summary>
/// Many nodes of one process addressing each other as if remote, on a <see cref="DeterministicWorld"/>: every envelope
/// is timed (or dropped) by the <see cref="ILinkModel"/> on virtual time, and faults are injected here — partitions,
/// blocked links, node crashes. Per (from, to) pair, delivery order is send order even with jitter.
/// Not thread-safe: used from the world's thread only.
/// </summary>
public sealed class InMemoryTransport : ITransport
{
    private readonly DeterministicWorld _world;
    private readonly Dictionary<Address, Node> _nodes = [];
    private readonly HashSet<(Address From, Address To)> _blocked = [];
    private readonly Dictionary<(Address From, Address To), long> _lastDue = [];
    private readonly Dictionary<Address, HashSet<Address>> _monitors = [];
    private readonly Action<object?> _deliver;
    private long _incarnations;

    public InMemoryTransport(DeterministicWorld world, ILinkModel? linkModel = null, bool passByReference = false)
    {
        ArgumentNullException.ThrowIfNull(world);
        _world = world;
        LinkModel = linkModel ?? new SimulatedLinkModel();
        PassByReference = passByReference;
        _deliver = Deliver;
    }

    public ILinkModel LinkModel { get; }

    public bool PassByReference { get; }

    /// <summary>Called for every delivered envelope (before the recipient node sees it): traces, metrics.</summary>
    public Action<TransportDelivery>? OnDelivered { get; set; }

    public long Sent { get; private set; }

    public long Delivered { get; private set; }

    public long Dropped { get; private set; }

    public IReadOnlyCollection<Address> Nodes => _nodes.Keys;

    public bool IsUp(Address node) => _nodes.ContainsKey(node);

    /// <summary>The node's incarnation number; a restarted node gets a new one and messages sent to the old one are lost.</summary>
    public long IncarnationOf(Address node) => _nodes.TryGetValue(node, out var n) ? n.Incarnation : 0;

    public void Bind(Address local, ITransportListener listener)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(listener);
        if (_nodes.ContainsKey(local))
        {
            throw new InvalidOperationException($"{local} is already bound");
        }
        _nodes[local] = new Node(listener, ++_incarnations);
        foreach (var monitor in MonitorsOf(local))
        {
            monitor.OnNodeUp(local);
        }
    }

    public void Unbind(Address local)
    {
        if (_nodes.Remove(local))
        {
            foreach (var monitor in MonitorsOf(local))
            {
                monitor.OnNodeDown(local);
            }
        }
    }

    public void MonitorPeer(Address local, Address peer, bool monitor)
    {
        if (!monitor)
        {
            if (_monitors.TryGetValue(peer, out var locals) && locals.Remove(local) && locals.Count == 0)
            {
                _monitors.Remove(peer);
            }
            return;
        }
        if (!_monitors.TryGetValue(peer, out var set))
        {
            _monitors[peer] = set = [];
        }
        set.Add(local);
        if (!_nodes.ContainsKey(peer))
        {
            _world.Schedule(TimeSpan.Zero, _ =>
            {
                if (_nodes.TryGetValue(local, out var node) && !_nodes.ContainsKey(peer))
                {
                    node.Listener.OnNodeDown(peer);
                }
            }, null);
        }
    }

    /// <summary>Crashes a node: it stops at once, in-flight messages to it are lost, monitoring peers see it down.</summary>
    public void Crash(Address node)
    {
        if (_nodes.Remove(node, out var crashed))
        {
            foreach (var monitor in MonitorsOf(node))
            {
                monitor.OnNodeDown(node);
            }
            crashed.Listener.OnLocalCrash();
        }
    }

    /// <summary>Cuts every link between the two sides, both ways, until <see cref="Heal"/>.</summary>
    public void Partition(IEnumerable<Address> sideA, IEnumerable<Address> sideB)
    {
        ArgumentNullException.ThrowIfNull(sideA);
        ArgumentNullException.ThrowIfNull(sideB);
        var b = sideB.ToArray();
        foreach (var a in sideA)
        {
            foreach (var other in b)
            {
                _blocked.Add((a, other));
                _blocked.Add((other, a));
            }
        }
    }

    /// <summary>Cuts one direction of one link.</summary>
    public void Block(Address from, Address to) => _blocked.Add((from, to));

    public void Unblock(Address from, Address to) => _blocked.Remove((from, to));

    /// <summary>Restores every link cut by <see cref="Partition"/> or <see cref="Block"/>.</summary>
    public void Heal() => _blocked.Clear();

    public void Send(Address from, Address to, TransportEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        Sent++;
        if (!_nodes.ContainsKey(from) || !_nodes.TryGetValue(to, out var target) || _blocked.Contains((from, to)))
        {
            Dropped++;
            return;
        }
        var decision = LinkModel.Decide(new LinkRequest(from, to, envelope.Size, _world.Elapsed), _world.Random);
        if (decision.Dropped)
        {
            Dropped++;
            return;
        }
        var now = _world.ElapsedTicks;
        var due = now + Math.Max(0, decision.Delay.Ticks);
        if (_lastDue.TryGetValue((from, to), out var last) && last > due)
        {
            due = last;
        }
        _lastDue[(from, to)] = due;
        _world.Schedule(TimeSpan.FromTicks(due - now), _deliver, new InFlight(from, to, target.Incarnation, envelope));
    }

    /// <summary>The listeners of bound nodes monitoring <paramref name="peer"/> (a snapshot: they may change it).</summary>
    private ITransportListener[] MonitorsOf(Address peer) =>
        _monitors.TryGetValue(peer, out var locals)
            ? [.. locals.Where(_nodes.ContainsKey).Select(l => _nodes[l].Listener)]
            : [];

    private void Deliver(object? state)
    {
        var flight = (InFlight)state!;
        if (!_nodes.TryGetValue(flight.To, out var node) || node.Incarnation != flight.Incarnation || _blocked.Contains((flight.From, flight.To)))
        {
            Dropped++;
            return;
        }
        Delivered++;
        OnDelivered?.Invoke(new TransportDelivery(_world.Elapsed, flight.From, flight.To, flight.Envelope));
        node.Listener.OnReceive(flight.Envelope);
    }

    private sealed record Node(ITransportListener Listener, long Incarnation);

    private sealed record InFlight(Address From, Address To, long Incarnation, TransportEnvelope Envelope);
}
