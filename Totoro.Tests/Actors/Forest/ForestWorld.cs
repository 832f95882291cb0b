using System.Collections.Immutable;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;
using Totoro.Tests.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// Test harness, not a product simulator: N nodes, each a <see cref="MultiRingNodeState"/> (one zone ring, plus the
/// global ring for gateways) and a <see cref="ForestState"/>, driven by a virtual-time queue through the
/// <see cref="NetworkModel"/>. It performs effects the way the actor shell will: ring forward upcalls through a
/// <see cref="ForestRouteApplication"/>, ring deliveries and <c>PeerFailed</c> into the forest, forest routes into
/// the ring. A forest send to a crashed node comes back to the sender as a peer failure after <see cref="HopTimeout"/>.
/// </summary>
internal sealed class ForestWorld
{
    private readonly MultiRingNodeState?[] rings;
    private readonly ForestState?[] forests;
    private readonly bool[] up;
    private readonly NodeId[] ids;
    private readonly HashSet<int> gateways = [];
    private readonly PriorityQueue<Pending, (long Ticks, long Sequence)> queue = new();
    private readonly Dictionary<(int Node, object Timer), long> timerGenerations = [];
    private readonly ForestSettings forestSettings;
    private readonly FoldCombiners combiners;
    private long sequence;

    public ForestWorld(int nodes, int zones, int seed, ForestSettings? forestSettings = null, IEnumerable<IFoldCombiner>? combiners = null, int gatewaysPerZone = 2)
    {
        Random = new Random(seed);
        Seed = seed;
        Topology = TopologyGenerator.Generate(zones, nodes, NetworkSettings.Default, ZoneAssignment.Geographic, new Random(seed));
        Network = new NetworkModel(Topology, NetworkSettings.Default, seed);
        rings = new MultiRingNodeState?[nodes];
        forests = new ForestState?[nodes];
        up = new bool[nodes];
        ids = [.. Enumerable.Range(0, nodes).Select(_ => RingWorld.RandomId(Random))];
        this.forestSettings = forestSettings ?? ForestSettings.Default;
        this.combiners = new FoldCombiners(combiners ?? [VectorSum.Combiner]);
        if (zones > 1)
        {
            for (var zone = 0; zone < zones; zone++)
            {
                var members = Enumerable.Range(0, nodes).Where(n => Topology.Nodes[n].Zone == zone).ToList();
                var chosen = ZoneKeys.SelectGateways(members.Select(n => ids[n]), zone, gatewaysPerZone);
                gateways.UnionWith(members.Where(n => chosen.Contains(ids[n])));
            }
        }
    }

    public int Seed { get; }

    public Random Random { get; }

    public NetworkTopology Topology { get; }

    public NetworkModel Network { get; }

    public TimeSpan Now { get; private set; }

    public TimeSpan HopTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long until a forest send to a crashed node is reported back to the sender as a peer failure.</summary>
    public TimeSpan ForestFailureDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the ring's <c>PeerFailed</c> reaches the forest (off: the forest must notice on its own).</summary>
    public bool ReportRingPeerFailures { get; set; } = true;

    public int Count => rings.Length;

    public IReadOnlyList<NodeId> Ids => ids;

    /// <summary>Every forest report, with the node that emitted it and when.</summary>
    public List<(int Node, ForestReport Report, TimeSpan At)> Reports { get; } = [];

    /// <summary>Multicasts handed to applications: (node, topic, message id).</summary>
    public List<(int Node, TopicId Topic, long MessageId)> AppDeliveries { get; } = [];

    /// <summary>Every forest message put on the wire: (from, to, message).</summary>
    public List<(int From, int To, ForestMessage Message)> Sent { get; } = [];

    public List<RouteAbandoned> Abandoned { get; } = [];

    /// <summary>What a subscriber contributes when a publish opens a fold round; null abstains.</summary>
    public Func<int, TopicId, long, object?>? Contribution { get; set; }

    public TimeSpan TrainingTime { get; set; } = TimeSpan.FromMilliseconds(300);

    public IEnumerable<int> LiveNodes => Enumerable.Range(0, Count).Where(n => up[n]);

    public ForestState Forest(int node) => forests[node]!;

    public int ZoneOf(int node) => Topology.Nodes[node].Zone;

    public bool IsUp(int node) => up[node];

    /// <summary>Starts every node (joining its zone ring, gateways also the global ring) and lets the rings settle.</summary>
    public void Build(TimeSpan spacing)
    {
        var startedInZone = new Dictionary<int, List<int>>();
        var startedGateways = new List<int>();
        var settings = RingSettings.Default;
        for (var node = 0; node < Count; node++)
        {
            var self = node;
            At(spacing * node, () =>
            {
                var zone = ZoneOf(self);
                var members = startedInZone.TryGetValue(zone, out var list) ? list : startedInZone[zone] = [];
                var handle = new NodeHandle(ids[self], new NodeAddress(self));
                var zoneStep = members.Count == 0
                    ? RingNodeState.CreateFirst(handle, settings, LowestRttPlanner.Instance)
                    : RingNodeState.CreateJoining(handle, new NodeAddress(members[Random.Next(members.Count)]), settings, LowestRttPlanner.Instance);
                RingStep<RingNodeState>? globalStep = null;
                if (gateways.Contains(self))
                {
                    var globalHandle = new NodeHandle(ZoneKeys.GlobalIdFor(zone, ids[self]), new NodeAddress(self));
                    globalStep = startedGateways.Count == 0
                        ? RingNodeState.CreateFirst(globalHandle, settings, LowestRttPlanner.Instance)
                        : RingNodeState.CreateJoining(globalHandle, new NodeAddress(startedGateways[Random.Next(startedGateways.Count)]), settings, LowestRttPlanner.Instance);
                    startedGateways.Add(self);
                }

                var step = MultiRingNodeState.Compose(zone, zoneStep, globalStep);
                rings[self] = step.State;
                up[self] = true;
                members.Add(self);
                PerformRing(self, step.Effects);
                var forest = ForestState.Create(handle, zone, forestSettings, combiners);
                forests[self] = forest.State;
                PerformForest(self, forest.Effects);
            });
        }

        RunFor((spacing * Count) + TimeSpan.FromSeconds(15));
    }

    public void Crash(int node) => up[node] = false;

    public void Subscribe(int node, TopicId topic, int homeZone = 0) => Apply(node, forests[node]!.Subscribe(topic, homeZone, Now));

    public void Unsubscribe(int node, TopicId topic) => Apply(node, forests[node]!.Unsubscribe(topic));

    public void Publish(int node, TopicId topic, long messageId, FoldRequest? fold, BlobRef? blob = null) =>
        Apply(node, forests[node]!.Publish(topic, messageId, new MulticastContent("model", blob), fold, Now));

    /// <summary>The node that considers itself the home root of <paramref name="topic"/> (alive), if exactly one does.</summary>
    public int? RootOf(TopicId topic)
    {
        var roots = LiveNodes.Where(n => forests[n]!.Trees.GetValueOrDefault(topic) is { IsHomeRoot: true }).ToList();
        return roots.Count == 1 ? roots[0] : null;
    }

    public int ClosestLiveInZone(NodeId key, int zone) =>
        LiveNodes.Where(n => ZoneOf(n) == zone).Aggregate((best, n) => ids[n].IsCloserTo(key, ids[best]) ? n : best);

    /// <summary>Depth of each live member, following parent pointers; throws if a walk revisits a node (a loop) or hits a dead or foreign parent.</summary>
    public Dictionary<int, int> WalkToRoot(TopicId topic)
    {
        var depths = new Dictionary<int, int>();
        foreach (var node in LiveNodes.Where(n => forests[n]!.Trees.ContainsKey(topic)))
        {
            var seen = new HashSet<int> { node };
            var current = node;
            while (forests[current]!.Trees[topic] is { IsHomeRoot: false } tree)
            {
                var parent = (tree.Parent ?? throw new InvalidOperationException($"node {current} is detached from {topic}")).Address.Value;
                if (!up[parent] || !forests[parent]!.Trees.TryGetValue(topic, out var parentTree) || parentTree.IndexOfChild(ids[current]) < 0)
                {
                    throw new InvalidOperationException($"node {current}: parent {parent} is down, not in {topic}, or does not list it as a child");
                }

                if (!seen.Add(parent))
                {
                    throw new InvalidOperationException($"loop through node {parent} in {topic}");
                }

                current = parent;
            }

            depths[node] = seen.Count - 1;
        }

        return depths;
    }

    /// <summary>The nodes above <paramref name="node"/> (its parent first), by parent pointers.</summary>
    public List<int> WalkToRootPath(TopicId topic, int node)
    {
        var path = new List<int>();
        var current = node;
        while (forests[current]!.Trees.GetValueOrDefault(topic)?.Parent is { } parent && path.Count < Count)
        {
            current = parent.Address.Value;
            path.Add(current);
        }

        return path;
    }

    public void At(TimeSpan time, Action action) => Enqueue(time, new Pending(-1, null, 0, action));

    public void RunFor(TimeSpan duration) => RunUntil(Now + duration);

    public void RunUntil(TimeSpan until)
    {
        while (queue.TryPeek(out _, out var priority) && priority.Ticks <= until.Ticks)
        {
            var pending = queue.Dequeue();
            Now = TimeSpan.FromTicks(priority.Ticks);
            if (pending.Action is { } action)
            {
                action();
                continue;
            }

            var isTimer = pending.Generation > 0;
            if ((isTimer && timerGenerations.GetValueOrDefault((pending.Node, pending.Message!)) != pending.Generation) || !up[pending.Node])
            {
                continue;
            }

            switch (pending.Message)
            {
                case RingEnvelope envelope:
                    HandleRing(pending.Node, envelope);
                    break;
                case ForestMessage message:
                    Apply(pending.Node, forests[pending.Node]!.Handle(message, Now));
                    break;
                case PeerDown down:
                    Apply(pending.Node, forests[pending.Node]!.OnPeerFailed(new NodeAddress(down.Peer), Now));
                    break;
                default:
                    throw new InvalidOperationException("unknown pending item");
            }
        }

        Now = until;
    }

    private void HandleRing(int node, RingEnvelope envelope)
    {
        var application = new ForestRouteApplication(forests[node]!, Now);
        var step = rings[node]!.Handle(envelope, Now, application);
        rings[node] = step.State;
        forests[node] = application.State;
        PerformForest(node, application.Effects);
        PerformRing(node, step.Effects);
    }

    private void Apply(int node, ForestStep step)
    {
        forests[node] = step.State;
        PerformForest(node, step.Effects);
    }

    private void PerformRing(int node, ImmutableArray<RingEffect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case Totoro.Actors.Ring.Send send:
                    Transmit(node, send.To.Value, send.Message, send.Message is RingEnvelope { Message: RouteMessage } ? send.Message : null);
                    break;
                case ScheduleTimer schedule:
                    Enqueue(Now + schedule.Delay, new Pending(node, schedule.Timer, BumpTimer(node, schedule.Timer), null));
                    break;
                case Totoro.Actors.Ring.CancelTimer cancel:
                    BumpTimer(node, cancel.Timer);
                    break;
                case Deliver deliver:
                    var application = new ForestRouteApplication(forests[node]!, Now);
                    application.Deliver(deliver.Context);
                    forests[node] = application.State;
                    PerformForest(node, application.Effects);
                    break;
                case PeerFailed failed when ReportRingPeerFailures:
                    Apply(node, forests[node]!.OnPeerFailed(failed.Peer.Address, Now));
                    break;
                case RouteAbandoned abandoned:
                    Abandoned.Add(abandoned);
                    break;
                default:
                    break;
            }
        }
    }

    private void PerformForest(int node, ImmutableArray<ForestEffect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case SendToPeer send:
                    Sent.Add((node, send.To.Value, send.Message));
                    Transmit(node, send.To.Value, send.Message, null);
                    break;
                case RouteToKey route:
                    var step = rings[node]!.Route(route.Key, route.Ring, route.Payload);
                    rings[node] = step.State;
                    PerformRing(node, step.Effects);
                    break;
                case StartTimer start:
                    Enqueue(Now + start.Delay, new Pending(node, start.Timer, BumpTimer(node, start.Timer), null));
                    break;
                case StopTimer stop:
                    BumpTimer(node, stop.Timer);
                    break;
                case DeliverToApp deliver:
                    AppDeliveries.Add((node, deliver.Topic, deliver.MessageId));
                    if (deliver.Fold is { } fold && Contribution is { } contribution)
                    {
                        var self = node;
                        At(Now + TrainingTime, () =>
                        {
                            if (up[self])
                            {
                                var value = contribution(self, deliver.Topic, fold.Round);
                                Apply(self, value is null ? forests[self]!.Abstain(deliver.Topic, fold.Round) : forests[self]!.Contribute(deliver.Topic, fold.Round, value));
                            }
                        });
                    }

                    break;
                case ForestReport report:
                    Reports.Add((node, report, Now));
                    break;
                default:
                    throw new InvalidOperationException($"unhandled forest effect {effect}");
            }
        }
    }

    /// <summary>Ring route messages to a dead node bounce as <c>DeliveryFailed</c>; forest messages as a peer failure.</summary>
    private void Transmit(int from, int to, object message, object? ringRoute)
    {
        if (!up[to])
        {
            if (ringRoute is RingEnvelope { Message: RouteMessage route } envelope)
            {
                Enqueue(Now + HopTimeout, new Pending(from, new RingEnvelope(envelope.Ring, new DeliveryFailed(new NodeAddress(to), route)), 0, null));
            }
            else if (message is ForestMessage)
            {
                Enqueue(Now + ForestFailureDelay, new Pending(from, new PeerDown(to), 0, null));
            }

            return;
        }

        var bytes = message is Multicast { Content.Blob: { } blob } ? 64 + blob.Size : 64;
        var outcome = Network.Transmit(from, to, bytes, Now);
        if (outcome.Delivered)
        {
            Enqueue(outcome.Arrival, new Pending(to, message, 0, null));
        }
    }

    private long BumpTimer(int node, object timer)
    {
        var generation = timerGenerations.GetValueOrDefault((node, timer)) + 1;
        timerGenerations[(node, timer)] = generation;
        return generation;
    }

    private void Enqueue(TimeSpan time, Pending pending) => queue.Enqueue(pending, (time.Ticks, sequence++));

    private sealed record PeerDown(int Peer);

    private sealed record Pending(int Node, object? Message, long Generation, Action? Action);
}

/// <summary>The test combiner: element-wise sum of vectors (associative and commutative up to float64 rounding).</summary>
internal static class VectorSum
{
    public const int Length = 8;

    public static FoldCombiner<double[]> Combiner { get; } =
        new DelegateFoldCombiner<double[]>("vector-sum", new double[Length], (left, right) => [.. left.Zip(right, (a, b) => a + b)]);

    /// <summary>A node's deterministic contribution to (topic, round): distinct per node, topic and round.</summary>
    public static double[] For(NodeId node, TopicId topic, long round)
    {
        var mix = node.Value ^ (topic.Key.Value >> 1) ^ ((UInt128)(ulong)round * 0x9E3779B97F4A7C15UL);
        var random = new Random((int)(uint)(ulong)(mix ^ (mix >> 64)));
        return [.. Enumerable.Range(0, Length).Select(_ => random.NextDouble())];
    }

    /// <summary>The flat sum, contributions taken in id order.</summary>
    public static double[] Flat(IEnumerable<double[]> parts)
    {
        var sum = new double[Length];
        foreach (var part in parts)
        {
            for (var i = 0; i < Length; i++)
            {
                sum[i] += part[i];
            }
        }

        return sum;
    }
}
