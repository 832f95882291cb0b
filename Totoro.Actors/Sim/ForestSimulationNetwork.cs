using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>Forest traffic of one topic, as counted on the simulated links.</summary>
internal sealed class TopicTraffic
{
    public long Multicasts { get; set; }

    public long MulticastBytes { get; set; }

    public long Partials { get; set; }

    public long PartialBytes { get; set; }

    public long Control { get; set; }

    /// <summary>Copies of a multicast each node sent (its uplink's share of one publish): node → copies.</summary>
    public Dictionary<int, int> MulticastCopiesBySender { get; } = [];

    /// <summary>Fold partials per (round, child, parent): each must be exactly 1.</summary>
    public Dictionary<(long Round, int From, int To), int> PartialsByEdge { get; } = [];
}

/// <summary>
/// The forest's links in a large simulation: every forest actor lives on the <see cref="RingSimulation"/>'s one actor
/// system, and a send becomes a scheduled tell whose delay a <see cref="NetworkModel"/> computes. Two lanes, as on the
/// TCP transport: messages of at most <see cref="BulkThreshold"/> bytes (tree control, heartbeats) share the ring's
/// model (its queues), and larger ones (a model blob, a model-sized partial) go through <paramref name="bulk"/>, a model
/// of the same links with queues of their own, so a 1 MB transfer occupies the sender's uplink and the receiver's
/// downlink for its size without holding the ring's heartbeats behind it. The two lanes do not share bandwidth (an
/// approximation: the real transport interleaves them on one connection). A message
/// to a crashed node comes back as <see cref="ForestPeerUnreachable"/> after <see cref="HopTimeout"/>, as an
/// acknowledgement timeout would report it. Counts every message by topic and kind. Single-threaded like the world.
/// </summary>
internal sealed class ForestSimulationNetwork(NetworkModel control, NetworkModel bulk, IScheduler scheduler, int capacity) : IForestLinks
{
    private readonly IActorRef?[] _nodes = new IActorRef?[capacity];
    private readonly Dictionary<TopicId, TopicTraffic> _traffic = [];

    public const long BulkThreshold = 64 * 1024;

    public TimeSpan HopTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public bool ReportsUnreachable => true;

    public long Sent { get; private set; }

    public long Heartbeats { get; private set; }

    public long Dropped { get; private set; }

    public void Attach(NodeAddress node, IActorRef actor) => _nodes[node.Value] = actor;

    public void Detach(NodeAddress node) => _nodes[node.Value] = null;

    public TopicTraffic TrafficOf(TopicId topic) => _traffic.TryGetValue(topic, out var traffic) ? traffic : _traffic[topic] = new TopicTraffic();

    /// <summary>Forgets the per-topic counts (between the subscribe phase and a publish).</summary>
    public void ResetTraffic() => _traffic.Clear();

    public void Send(NodeAddress from, NodeAddress to, object message, IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        var envelope = (ForestEnvelope)message;
        var size = ForestWireSize.Of(envelope);
        Count(from.Value, to.Value, envelope.Message, size);
        var target = _nodes[to.Value];
        if (target is null)
        {
            Dropped++;
            scheduler.ScheduleTellOnce(HopTimeout, sender, new ForestPeerUnreachable(to));
            return;
        }

        var now = RingClock.Now(scheduler.Time);
        var outcome = (size > BulkThreshold ? bulk : control).Transmit(from.Value, to.Value, size, now);
        if (!outcome.Delivered)
        {
            Dropped++;
            return;
        }

        scheduler.ScheduleTellOnce(outcome.Arrival - now, target, envelope, sender);
    }

    private void Count(int from, int to, ForestMessage message, long size)
    {
        Sent++;
        if (message is TreeHeartbeat)
        {
            Heartbeats++;
            return;
        }

        var traffic = TrafficOf(message.Topic);
        switch (message)
        {
            case Multicast:
                traffic.Multicasts++;
                traffic.MulticastBytes += size;
                traffic.MulticastCopiesBySender[from] = traffic.MulticastCopiesBySender.GetValueOrDefault(from) + 1;
                break;
            case FoldPartial partial:
                traffic.Partials++;
                traffic.PartialBytes += size;
                var edge = (partial.Round, from, to);
                traffic.PartialsByEdge[edge] = traffic.PartialsByEdge.GetValueOrDefault(edge) + 1;
                break;
            default:
                traffic.Control++;
                break;
        }
    }
}
