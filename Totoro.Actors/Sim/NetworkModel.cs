namespace Totoro.Actors.Sim;

/// <summary>The outcome of handing a message to the network: when it arrives, or that it was lost.</summary>
internal readonly record struct TransmitOutcome(bool Delivered, TimeSpan Arrival)
{
    public static TransmitOutcome Dropped { get; } = new(false, TimeSpan.Zero);

    public static TransmitOutcome At(TimeSpan arrival) => new(true, arrival);
}

/// <summary>
/// How the in-memory transport learns when (and whether) a message between two simulated nodes arrives.
/// Implementations may keep queue state; callers use one instance from one thread.
/// </summary>
internal interface ILinkModel
{
    TransmitOutcome Transmit(int from, int to, long bytes, TimeSpan now);
}

/// <summary>An uplink's load: messages sent, time spent serializing them, and the summed time they queued behind earlier bytes.</summary>
internal readonly record struct UplinkUsage(long Messages, TimeSpan Busy, TimeSpan Waited);

/// <summary>
/// Edge network model: per-node access links with FIFO queues, distance-based propagation, seeded jitter and loss.
/// </summary>
/// <remarks>
/// Store-and-forward on the two access links: a message of B bytes starts on the sender's uplink when earlier
/// bytes have left it and occupies it for 8B/up; it then propagates (base + distance/speed + jitter); it starts on
/// the receiver's downlink when that is free and occupies it for 8B/down. The core is assumed uncongested.
/// Lost messages still consume the sender's uplink. Not thread-safe by design: the queue clocks and the random
/// generator are mutated in place, and the model is owned by the single simulation thread that calls
/// <see cref="Transmit"/> in virtual-time order.
/// </remarks>
internal sealed class NetworkModel : ILinkModel
{
    private readonly NetworkTopology topology;
    private readonly NetworkSettings settings;
    private readonly Random random;
    private readonly LinkQueues[] links;

    public NetworkModel(NetworkTopology topology, NetworkSettings settings, int seed)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(settings);
        this.topology = topology;
        this.settings = settings.Validated();
        random = new Random(seed);
        links = new LinkQueues[topology.Nodes.Length];
    }

    /// <summary>What node <paramref name="node"/>'s uplink carried so far: messages, time busy, and the time messages waited for it.</summary>
    public UplinkUsage Uplink(int node) =>
        new(links[node].UplinkMessages, TimeSpan.FromTicks(links[node].UplinkBusyTicks), TimeSpan.FromTicks(links[node].UplinkWaitTicks));

    /// <summary>The fixed part of every one-way latency (access links), paid once per overlay hop.</summary>
    public TimeSpan BaseLatency => settings.BaseLatency;

    /// <summary>One-way latency without jitter or queueing.</summary>
    public TimeSpan PropagationDelay(int from, int to)
    {
        if (from == to)
        {
            return TimeSpan.Zero;
        }

        var distance = topology.Distance(topology.Nodes[from].Position, topology.Nodes[to].Position);
        return settings.BaseLatency + TimeSpan.FromMilliseconds(distance / settings.PropagationKmPerMs);
    }

    /// <summary>Round trip without jitter or queueing: the proximity metric a perfect measurement would report.</summary>
    public TimeSpan BaseRtt(int a, int b) => PropagationDelay(a, b) + PropagationDelay(b, a);

    /// <summary>Time to run <paramref name="flops"/> floating-point operations on node <paramref name="node"/>.</summary>
    public TimeSpan ComputeTime(int node, double flops) => TimeSpan.FromSeconds(flops / topology.Nodes[node].FlopsPerSecond);

    public TransmitOutcome Transmit(int from, int to, long bytes, TimeSpan now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (from == to)
        {
            return TransmitOutcome.At(now);
        }

        var sender = topology.Nodes[from];
        var receiver = topology.Nodes[to];
        ref var uplink = ref links[from];
        var start = Math.Max(now.Ticks, uplink.UplinkFreeAtTicks);
        var serialization = SerializationTicks(bytes, sender.UplinkBitsPerSecond);
        var departure = start + serialization;
        uplink.UplinkFreeAtTicks = departure;
        uplink.UplinkMessages++;
        uplink.UplinkBusyTicks += serialization;
        uplink.UplinkWaitTicks += start - now.Ticks;
        if (settings.LossProbability > 0 && random.NextDouble() < settings.LossProbability)
        {
            return TransmitOutcome.Dropped;
        }

        var jitter = (long)(random.NextDouble() * settings.MaxJitter.Ticks);
        var reachesReceiver = departure + PropagationDelay(from, to).Ticks + jitter;
        ref var downlink = ref links[to];
        var arrival = Math.Max(reachesReceiver, downlink.DownlinkFreeAtTicks) + SerializationTicks(bytes, receiver.DownlinkBitsPerSecond);
        downlink.DownlinkFreeAtTicks = arrival;
        return TransmitOutcome.At(TimeSpan.FromTicks(arrival));
    }

    /// <summary>
    /// One node's two access-link queues and its uplink's counters, side by side: a transmission touches the sender's
    /// and the receiver's entry, one cache line each instead of one per array (the arrays are 8 MB each at 10⁶ nodes).
    /// </summary>
    private struct LinkQueues
    {
        public long UplinkFreeAtTicks;
        public long DownlinkFreeAtTicks;
        public long UplinkBusyTicks;
        public long UplinkWaitTicks;
        public long UplinkMessages;
    }

    private static long SerializationTicks(long bytes, double bitsPerSecond) =>
        (long)Math.Ceiling(bytes * 8.0 / bitsPerSecond * TimeSpan.TicksPerSecond);
}
