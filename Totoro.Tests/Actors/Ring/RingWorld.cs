using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Ring;

/// <summary>A lookup routed by the scenario tests; its id ties deliveries and forward upcalls together.</summary>
internal sealed record Lookup(int Id);

/// <summary>One ring of N simulated nodes driven by <see cref="RingPump"/>; node index = address = topology index.</summary>
internal sealed class RingWorld
{
    private readonly RingNodeState?[] nodes;
    private readonly bool[] up;
    private readonly Random random;
    private int nextLookup;

    private RingWorld(NetworkTopology topology, RingSettings settings, int seed)
    {
        Settings = settings;
        random = new Random(seed);
        Network = new NetworkModel(topology, NetworkSettings.Default, seed);
        nodes = new RingNodeState?[topology.Nodes.Length];
        up = new bool[nodes.Length];
        Ids = [.. Enumerable.Range(0, nodes.Length).Select(_ => RandomId(random))];
        Pump = new RingPump(Network, Handle, node => up[node]) { OnDeliver = (node, context) => new RecordingApplication(this, node).Deliver(context) };
    }

    public RingSettings Settings { get; }

    public NetworkModel Network { get; }

    public RingPump Pump { get; }

    public ImmutableArray<NodeId> Ids { get; }

    /// <summary>Delivered lookups: id → (node, hops).</summary>
    public Dictionary<int, (int Node, int Hops)> Deliveries { get; } = [];

    /// <summary>Forward upcalls per lookup id: the intermediate nodes in order.</summary>
    public Dictionary<int, List<int>> Paths { get; } = [];

    public IEnumerable<int> LiveNodes => Enumerable.Range(0, nodes.Length).Where(i => up[i] && nodes[i] is { Phase: RingPhase.Ready });

    public RingNodeState? this[int node] => nodes[node];

    public static RingWorld Create(int nodeCount, int seed, RingSettings? settings = null)
    {
        var topology = TopologyGenerator.Generate(4, nodeCount, NetworkSettings.Default, ZoneAssignment.Geographic, new Random(seed));
        return new RingWorld(topology, settings ?? RingSettings.Default, seed);
    }

    /// <summary>Node 0 starts the ring; nodes 1..count-1 join one every <paramref name="spacing"/>, each through a nearby started node.</summary>
    public void BuildByJoining(int count, TimeSpan spacing)
    {
        Start(0);
        for (var node = 1; node < count; node++)
        {
            var joiner = node;
            Pump.At(Pump.Now + (spacing * node), () => Join(joiner, NearbyStartedNode(joiner)));
        }

        Pump.RunFor(spacing * count);
    }

    public void Start(int node)
    {
        up[node] = true;
        var step = RingNodeState.CreateFirst(new NodeHandle(Ids[node], new NodeAddress(node)), Settings, LowestRttPlanner.Instance);
        nodes[node] = step.State;
        Pump.Perform(node, step.Effects);
    }

    public void Join(int node, int bootstrap)
    {
        up[node] = true;
        var step = RingNodeState.CreateJoining(new NodeHandle(Ids[node], new NodeAddress(node)), new NodeAddress(bootstrap), Settings, LowestRttPlanner.Instance);
        nodes[node] = step.State;
        Pump.Perform(node, step.Effects);
    }

    public void Crash(int node) => up[node] = false;

    public void Leave(int node)
    {
        var step = nodes[node]!.Leave();
        nodes[node] = step.State;
        Pump.Perform(node, step.Effects);
        up[node] = false;
    }

    public int Route(int source, NodeId key)
    {
        var lookup = new Lookup(nextLookup++);
        var step = nodes[source]!.Route(key, lookup);
        Pump.Perform(source, step.Effects);
        return lookup.Id;
    }

    public int ClosestLive(NodeId key) => LiveNodes.Aggregate((best, node) => Ids[node].IsCloserTo(key, Ids[best]) ? node : best);

    /// <summary>Routes <paramref name="count"/> random keys from random live nodes; returns (lookup, key, expected owner).</summary>
    public List<(int Lookup, NodeId Key, int Expected)> RouteRandomKeys(int count, TimeSpan settle)
    {
        var live = LiveNodes.ToArray();
        var sent = new List<(int, NodeId, int)>();
        for (var i = 0; i < count; i++)
        {
            var key = random.Next(4) == 0 ? Near(Ids[live[random.Next(live.Length)]]) : RandomId(random);
            sent.Add((Route(live[random.Next(live.Length)], key), key, ClosestLive(key)));
        }

        Pump.RunFor(settle);
        return sent;
    }

    /// <summary>Nodes whose leaf set differs from the true L/2 nearest live nodes on each side.</summary>
    public List<int> NodesWithWrongLeafSets()
    {
        var live = LiveNodes.ToArray();
        var half = Settings.LeafSetSize / 2;
        var wrong = new List<int>();
        foreach (var node in live)
        {
            var self = Ids[node];
            var clockwise = live.Where(n => n != node).OrderBy(n => self.ClockwiseTo(Ids[n])).Take(half).Select(n => Ids[n]);
            var counter = live.Where(n => n != node).OrderBy(n => self.CounterClockwiseTo(Ids[n])).Take(half).Select(n => Ids[n]);
            var leaves = nodes[node]!.Leaves;
            if (!clockwise.SequenceEqual(leaves.Clockwise.ToArray().Select(e => e.Id)) ||
                !counter.SequenceEqual(leaves.CounterClockwise.ToArray().Select(e => e.Id)))
            {
                wrong.Add(node);
                TestContext.Out.WriteLine($"node {node} {self.ToShortString()}: cw expected {string.Join(",", clockwise.Select(i => i.ToShortString(4)))} got {string.Join(",", leaves.Clockwise.ToArray().Select(e => e.Id.ToShortString(4)))}; ccw expected {string.Join(",", counter.Select(i => i.ToShortString(4)))} got {string.Join(",", leaves.CounterClockwise.ToArray().Select(e => e.Id.ToShortString(4)))}");
            }
        }

        return wrong;
    }

    public static NodeId RandomId(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new NodeId(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes));
    }

    private NodeId Near(NodeId id) => new(id.Value + (UInt128)(ulong)random.NextInt64());

    private int NearbyStartedNode(int joiner)
    {
        var started = Enumerable.Range(0, nodes.Length).Where(i => up[i] && nodes[i] is { Phase: RingPhase.Ready }).ToArray();
        return Enumerable.Range(0, 8).Select(_ => started[random.Next(started.Length)]).MinBy(n => Network.BaseRtt(joiner, n));
    }

    private ImmutableArray<RingEffect> Handle(int node, RingMessage message, TimeSpan now)
    {
        var step = nodes[node]!.Handle(message, now, new RecordingApplication(this, node));
        nodes[node] = step.State;
        return step.Effects;
    }

    private void Record(int node, RouteContext context)
    {
        if (context.Payload is Lookup lookup)
        {
            Deliveries[lookup.Id] = (node, context.Hops);
        }
    }

    private sealed class RecordingApplication(RingWorld world, int node) : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
        {
            if (context.Payload is Lookup lookup)
            {
                if (!world.Paths.TryGetValue(lookup.Id, out var path))
                {
                    world.Paths[lookup.Id] = path = [];
                }

                path.Add(node);
            }

            return ForwardVerdict.Continue;
        }

        public void Deliver(RouteContext context) => world.Record(node, context);
    }
}
