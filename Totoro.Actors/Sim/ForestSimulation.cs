using System.Collections.Immutable;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>Parameters of one <c>totoro sim forest</c> run.</summary>
internal sealed record ForestSimOptions(int Nodes, int Topics, int Members, int FanOutCap, int Zones, int ModelBytes, int Seed)
{
    /// <summary>The ring under the forest: the <c>sim ring</c> settings (b = 4, two candidates per slot), no lookups, no churn.</summary>
    public RingSimOptions Ring => new(Nodes, Zones, 4, Seed, 2, 0, 0) { Network = Network };

    /// <summary>The simulated network (<c>--network FILE</c>, HOCON <c>totoro.sim.network</c>).</summary>
    public NetworkSettings Network { get; init; } = NetworkSettings.Default;

    /// <summary>
    /// Forest settings for the simulation: the configured cap; slower ticks than the product default (5 s instead
    /// of 1 s) so 10⁵ idle forest actors do not dominate the run; per-level slack sized for model uploads (a 1 MB
    /// partial takes ~8 s on a 1 Mbit/s uplink).
    /// </summary>
    public ForestSettings Forest => ForestSettings.Default with
    {
        FanOutCap = FanOutCap,
        TickInterval = TimeSpan.FromSeconds(5),
        ParentTimeout = TimeSpan.FromSeconds(30),
        SubscribeRetry = TimeSpan.FromSeconds(30),
        LevelSlack = TimeSpan.FromSeconds(30),
    };

    /// <summary>The root's fold budget: far above the expected fold time, so a fold that closes early closed complete.</summary>
    public TimeSpan FoldBudget { get; init; } = TimeSpan.FromMinutes(60);

    public ForestSimOptions Validated()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Topics, 1, "--topics");
        ArgumentOutOfRangeException.ThrowIfLessThan(Members, 1, "--members");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Members, Nodes, "--members");
        ArgumentOutOfRangeException.ThrowIfNegative(ModelBytes, "--model-bytes");
        _ = Forest.Validated();
        _ = Ring.Validated();
        return this;
    }
}

/// <summary>One topic's tree as measured from every node's forest state.</summary>
internal sealed record TopicTree(
    TopicId Topic,
    int HomeZone,
    ImmutableArray<int> Roots,
    int TreeNodes,
    int Members,
    int AttachedMembers,
    int MaxDepth,
    double MeanMemberDepth,
    int RootFanIn,
    int MaxFanOut,
    int Forwarders,
    int InteriorMembers,
    int ZoneHeads);

/// <summary>
/// The forest simulator behind <c>totoro sim forest</c>: a <see cref="RingSimulation"/> built through the real join
/// protocol, a <see cref="ForestActor"/> beside every ring actor on the same system, forest links timed by the same
/// network model. Topics are created and subscribed through the real subscribe protocol (the ring's upcalls), then
/// measured from every node's state; a publish carries a model-sized blob down and a model-sized fold comes back up.
/// </summary>
internal sealed class ForestSimulation
{
    private readonly ForestSimOptions _options;
    private readonly RingSimulation _ring;
    private readonly ForestSimulationNetwork _links;
    private readonly IActorRef?[] _forests;
    private readonly IActorRef _members;
    private readonly IActorRef _observer;
    private readonly Random _random;

    public ForestSimulation(ForestSimOptions options)
    {
        _options = options.Validated();
        _ring = new RingSimulation(options.Ring);
        var bulk = new NetworkModel(_ring.Topology, options.Ring.Network, options.Seed + 1);
        _links = new ForestSimulationNetwork(_ring.Network, bulk, _ring.System.Scheduler, options.Nodes);
        _forests = new IActorRef?[options.Nodes];
        _members = _ring.System.ActorOf(Props.Create(() => new ForestSimMembers(Recorder, options.ModelBytes)), "forest-members");
        _observer = _ring.System.ActorOf(Props.Create(() => new ForestSimObserver(Recorder)), "forest-observer");
        _random = new Random(options.Seed ^ 0x5f0e57);
        Topics = [.. Enumerable.Range(0, options.Topics).Select(t => TopicId.For("sim-app-" + t))];
    }

    public RingSimulation Ring => _ring;

    public ForestSimulationNetwork Links => _links;

    public ForestSimRecorder Recorder { get; } = new();

    public ImmutableArray<TopicId> Topics { get; }

    /// <summary>Members per topic (node indices).</summary>
    public Dictionary<TopicId, int[]> MembersOf { get; } = [];

    public TimeSpan VirtualTime => _ring.VirtualTime;

    /// <summary>Builds the ring through joins, then starts a forest actor on every live node.</summary>
    public void Build(Action<int>? progress = null)
    {
        _ring.Build(progress);
        _ring.MaintainTables();
        _ring.Settle(TimeSpan.FromSeconds(30));
        var combiners = new FoldCombiners([new SimPartialCombiner(_options.ModelBytes)]);
        for (var node = 0; node < _options.Nodes; node++)
        {
            if (_ring.RingActorOf(node) is not { } ring || !_ring.IsLive(node))
            {
                continue;
            }

            var self = new NodeHandle(_ring.Ids[node], new NodeAddress(node));
            var forest = _ring.System.ActorOf(ForestActor.Props(new ForestStart(self, _ring.ZoneOf(node), _options.Forest, combiners, ring, _links)));
            forest.Tell(new ObserveForest(_observer));
            _links.Attach(self.Address, forest);
            _forests[node] = forest;
        }

        _ring.World.RunUntilIdle();
    }

    /// <summary>
    /// Creates every topic (home zone t mod zones) and subscribes <see cref="ForestSimOptions.Members"/> random live
    /// nodes to each, 100 subscriptions per virtual 10 ms, then lets the trees settle.
    /// </summary>
    public void Subscribe()
    {
        var live = Enumerable.Range(0, _options.Nodes).Where(node => _forests[node] is not null).ToArray();
        var joins = new List<(int Node, TopicId Topic, int HomeZone)>();
        for (var t = 0; t < Topics.Length; t++)
        {
            var members = live.ToArray();
            _random.Shuffle(members);
            MembersOf[Topics[t]] = members[..Math.Min(_options.Members, members.Length)];
            var homeZone = t % _options.Zones;
            _forests[members[0]]!.Tell(new CreateForestTopic(Topics[t], homeZone, null));
            joins.AddRange(MembersOf[Topics[t]].Select(node => (node, Topics[t], homeZone)));
        }

        _ring.World.Advance(TimeSpan.FromSeconds(5));
        _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(joins));
        for (var i = 0; i < joins.Count; i++)
        {
            _forests[joins[i].Node]!.Tell(new JoinTopic(joins[i].Topic, joins[i].HomeZone, _members));
            if (i % 100 == 99)
            {
                _ring.World.Advance(TimeSpan.FromMilliseconds(10));
            }
        }

        _ring.World.Advance(TimeSpan.FromSeconds(60));
    }

    /// <summary>Every live node's forest state, read through <see cref="GetTreeReport"/>.</summary>
    public Dictionary<int, ForestState> Snapshot()
    {
        var asks = Enumerable.Range(0, _options.Nodes).Where(node => _forests[node] is not null)
            .Select(node => (node, _forests[node]!.Ask<ForestSnapshot>(GetTreeReport.Instance, TimeSpan.FromSeconds(30)))).ToList();
        _ring.World.RunUntilIdle();
        return asks.ToDictionary(ask => ask.node, ask => ask.Item2.Result.State);
    }

    /// <summary>Measures one topic's tree: depth of every member by its ancestor path, roots, fan-in and fan-out, interior nodes.</summary>
    public TopicTree Measure(TopicId topic, Dictionary<int, ForestState> states)
    {
        var nodes = states.Where(pair => pair.Value.Trees.ContainsKey(topic)).Select(pair => (Node: pair.Key, Tree: pair.Value.Trees[topic])).ToList();
        var members = MembersOf[topic];
        var memberTrees = members.Select(node => states.GetValueOrDefault(node)?.Trees.GetValueOrDefault(topic)).ToList();
        var attached = memberTrees.Where(tree => tree is { IsAttached: true }).Select(tree => tree!).ToList();
        var roots = nodes.Where(n => n.Tree.IsHomeRoot).Select(n => n.Node).ToImmutableArray();
        return new TopicTree(
            topic,
            Array.IndexOf([.. Topics], topic) % _options.Zones,
            roots,
            nodes.Count,
            members.Length,
            attached.Count,
            nodes.Count == 0 ? 0 : nodes.Max(n => n.Tree.Depth),
            attached.Count == 0 ? 0 : attached.Average(tree => (double)tree.Depth),
            roots.IsEmpty ? 0 : states[roots[0]].Trees[topic].Children.Length,
            nodes.Count == 0 ? 0 : nodes.Max(n => n.Tree.Children.Length),
            nodes.Count(n => !n.Tree.IsSubscriber && !n.Tree.IsScopeRoot),
            nodes.Count(n => n.Tree.IsSubscriber && !n.Tree.Children.IsEmpty),
            nodes.Count(n => n.Tree.IsZoneHead));
    }

    /// <summary>
    /// Publishes message/round <paramref name="round"/> from each topic's root with a <see cref="ForestSimOptions.ModelBytes"/>
    /// blob, every member contributing a model-sized partial as the publish reaches it; runs until every fold completed
    /// (or the budget passed). Returns the virtual time of the publish.
    /// </summary>
    public TimeSpan PublishAndFold(long round, IReadOnlyDictionary<TopicId, int> rootOf)
    {
        var model = new byte[_options.ModelBytes];
        _links.ResetTraffic();
        var start = _ring.VirtualTime;
        foreach (var topic in Topics.Where(rootOf.ContainsKey))
        {
            _forests[rootOf[topic]]!.Tell(new PublishToTopic(topic, round, "model", model, new FoldRequest(round, SimPartialCombiner.KindName, _options.FoldBudget)));
        }

        var expected = Topics.Count(rootOf.ContainsKey);
        _ring.World.RunUntil(() => Recorder.Folds.Keys.Count(key => key.Round == round) >= expected, _options.FoldBudget + TimeSpan.FromSeconds(60));
        return start;
    }

    /// <summary>Crashes node <paramref name="node"/> (ring and forest actor; messages to it are lost or reported unreachable).</summary>
    public void Crash(int node)
    {
        _links.Detach(new NodeAddress(node));
        _ring.System.Stop(_forests[node]!);
        _forests[node] = null;
        _ring.Crash([node]);
    }

    public void Settle(TimeSpan duration) => _ring.Settle(duration);
}
