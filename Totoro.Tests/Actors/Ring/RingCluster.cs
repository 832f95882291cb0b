using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;
using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Actors.Ring;

/// <summary>
/// N ring nodes, each a <see cref="RingMembershipActor"/> on its own actor system, over the kernel's in-memory
/// transport with the <see cref="NetworkModel"/> as link model. Every message between nodes is serialized
/// (the scenario's serialize-everything mode), so each ring message type that occurs provably crosses a node boundary.
/// </summary>
internal sealed class RingCluster
{
    private readonly IActorRef?[] _actors;
    private readonly Random _random;
    private readonly SerializerRegistry _serialization;
    private int _nextLookup;

    private RingCluster(int nodes, int seed, RingSettings settings, SerializerRegistry serialization)
    {
        Settings = settings;
        _serialization = serialization;
        _random = new Random(seed);
        var topology = TopologyGenerator.Generate(4, nodes, NetworkSettings.Default, ZoneAssignment.Geographic, new Random(seed));
        Network = new NetworkModel(topology, NetworkSettings.Default, seed);
        Scenario = Scenario.Create(nodes, seed, new NetworkLinkModel(Network, RingAddressBook.Default), serializeAll: true, serialization: serialization);
        Ids = [.. Enumerable.Range(0, nodes).Select(_ => RandomId(_random))];
        _actors = new IActorRef?[nodes];
        Scenario.Transport.OnDelivered = RecordCrossing;
    }

    /// <summary>Ring message types (inside envelopes and acked hops) that crossed the transport as bytes.</summary>
    public HashSet<Type> CrossedAsBytes { get; } = [];

    public Scenario Scenario { get; }

    public NetworkModel Network { get; }

    public RingSettings Settings { get; }

    public ImmutableArray<NodeId> Ids { get; }

    /// <summary>Delivered lookups: id → (node, hops).</summary>
    public Dictionary<int, (int Node, int Hops)> Deliveries { get; } = [];

    /// <summary>Intermediate nodes per lookup, in order (from the forward upcalls).</summary>
    public Dictionary<int, List<int>> Paths { get; } = [];

    /// <summary>The next-hop planner of each node started from now on (default: the start record's lowest-RTT rule).</summary>
    public Func<NodeHandle, INextHopPlanner>? PlannerFor { get; set; }

    public IEnumerable<int> Live => Enumerable.Range(0, _actors.Length).Where(node => _actors[node] is not null);

    public static RingCluster Create(int nodes, int seed, RingSettings? settings = null) => new(nodes, seed, settings ?? RingSettings.Default, RingTestSerializers.Registry);

    /// <summary>A cluster whose nodes serialize with <paramref name="serialization"/> (which must include the ring's manifests).</summary>
    public static RingCluster Create(int nodes, int seed, SerializerRegistry serialization, RingSettings? settings = null) =>
        new(nodes, seed, settings ?? RingSettings.Default, serialization);

    public static NodeId RandomId(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new NodeId(new UInt128(BitConverter.ToUInt64(bytes), BitConverter.ToUInt64(bytes[8..])));
    }

    /// <summary>Node 0 starts the ring; the others join one every <paramref name="spacing"/> through the nearest of a few live nodes.</summary>
    public void BuildByJoining(int count, TimeSpan spacing)
    {
        Start(0, null);
        for (var node = 1; node < count; node++)
        {
            Scenario.Advance(spacing);
            Start(node, NearbyLiveNode(node));
        }
    }

    public void Start(int node, int? bootstrap)
    {
        var self = new NodeHandle(Ids[node], new NodeAddress(node));
        var start = new RingMembershipStart(self, 0, Settings, bootstrap is { } contact ? new NodeAddress(contact) : null, false, null);
        if (PlannerFor is { } plannerFor)
        {
            start = start with { Planner = plannerFor(self) };
        }

        var system = Scenario[node];
        var links = new TransportRingLinks(system, RingAddressBook.Default);
        _actors[node] = system.ActorOf(RingMembershipActor.Props(start, links, new RecordingApplication(this, node), []), RingAddressBook.Default.ActorName);
        Scenario.RunUntilIdle();
    }

    public IActorRef ActorOf(int node) => _actors[node] ?? throw new InvalidOperationException($"Node {node} is not in the ring");

    public void Leave(int node)
    {
        _actors[node]!.Tell(LeaveRing.Instance);
        _actors[node] = null;
        Scenario.RunUntilIdle();
    }

    public void Crash(int node)
    {
        Scenario.Crash(node);
        _actors[node] = null;
    }

    /// <summary>Routes a fresh lookup from <paramref name="from"/> toward <paramref name="key"/>; returns its id.</summary>
    public int Route(int from, NodeId key)
    {
        var id = _nextLookup++;
        _actors[from]!.Tell(new RouteRequest(key, RingId.Zone(0), new RingTestLookup(id)));
        return id;
    }

    public RingNodeState StateOf(int node) =>
        Scenario.Await(_actors[node]!.Ask<RingStateSnapshot>(GetRingState.Instance, TimeSpan.FromSeconds(5))).State.ZoneRing;

    public int ClosestLive(NodeId key) => Live.Aggregate((best, node) => Ids[node].IsCloserTo(key, Ids[best]) ? node : best);

    /// <summary>Live nodes whose leaf set is not exactly the L/2 nearest live nodes on each side.</summary>
    public List<int> NodesWithWrongLeafSets()
    {
        var sorted = Live.OrderBy(node => Ids[node]).ToArray();
        var half = Math.Min(Settings.LeafSetSize / 2, (sorted.Length - 1) / 2);
        var wrong = new List<int>();
        for (var at = 0; at < sorted.Length; at++)
        {
            var leaves = StateOf(sorted[at]).Leaves;
            for (var step = 1; step <= half; step++)
            {
                if (!leaves.IsOnClockwiseSide(Ids[sorted[(at + step) % sorted.Length]]) ||
                    !leaves.IsOnCounterClockwiseSide(Ids[sorted[(at - step + sorted.Length) % sorted.Length]]))
                {
                    wrong.Add(sorted[at]);
                    break;
                }
            }
        }

        return wrong;
    }

    /// <summary>Routes <paramref name="count"/> random keys from random live nodes; returns (lookup, key) pairs after they settle.</summary>
    public List<(int Lookup, NodeId Key)> RouteRandomKeys(int count)
    {
        var live = Live.ToArray();
        var sent = new List<(int, NodeId)>();
        for (var i = 0; i < count; i++)
        {
            var key = RandomId(_random);
            sent.Add((Route(live[_random.Next(live.Length)], key), key));
        }

        Scenario.Advance(TimeSpan.FromSeconds(5));
        return sent;
    }

    private void RecordCrossing(TransportDelivery delivery)
    {
        var envelope = delivery.Envelope;
        if (envelope.Message is not null || !envelope.Manifest.StartsWith("ring.", StringComparison.Ordinal))
        {
            return;
        }

        var message = _serialization.Deserialize(envelope.Manifest, envelope.Payload.Span, Scenario[0]);
        CrossedAsBytes.Add(message.GetType());
        switch (message)
        {
            case RingEnvelope ring:
                CrossedAsBytes.Add(ring.Message.GetType());
                break;
            case AckedHop hop:
                CrossedAsBytes.Add(hop.Envelope.Message.GetType());
                break;
        }
    }

    private int NearbyLiveNode(int node)
    {
        var live = Live.ToArray();
        return Enumerable.Range(0, 6).Select(_ => live[_random.Next(live.Length)]).MinBy(candidate => Network.BaseRtt(node, candidate));
    }

    private sealed class RecordingApplication(RingCluster cluster, int node) : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
        {
            if (context.Payload is RingTestLookup lookup)
            {
                (cluster.Paths.TryGetValue(lookup.Id, out var path) ? path : cluster.Paths[lookup.Id] = []).Add(node);
            }

            return ForwardVerdict.Continue;
        }

        public void Deliver(RouteContext context)
        {
            if (context.Payload is RingTestLookup lookup)
            {
                cluster.Deliveries[lookup.Id] = (node, context.Hops);
            }
        }
    }
}
