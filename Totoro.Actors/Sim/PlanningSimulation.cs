using System.Collections.Immutable;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Sim;

/// <summary>
/// One round of one planner: mean/max over apps of the round time, ε of the profile and the players that could gain
/// more than 5 % of the mean path cost (if measured), players, parent switches since the previous round.
/// </summary>
internal sealed record PlanningRound(
    int Round,
    double MeanDissemination,
    double MeanAggregation,
    double MeanRoundTime,
    double MaxRoundTime,
    double? EpsilonAdditive,
    double? EpsilonRelative,
    double? MeanPathCost,
    int? PlayersAboveTarget,
    int Players,
    int Switches,
    int Probes = 0,
    double ProbeBytes = 0,
    double ModelBytes = 0);

/// <summary>A planner's whole run: every round, and each app's per-round time.</summary>
internal sealed record PlannerRun(PlannerKind Kind, ImmutableArray<PlanningRound> Rounds, ImmutableArray<ImmutableArray<double>> AppRoundTimes);

/// <summary>
/// The simulator behind <c>totoro sim planning</c>: a real ring built through the join protocol
/// (<see cref="RingSimulation"/>), heterogeneous access links, skewed applications, and per planner R rounds in which
/// every app's tree is rebuilt from the planner's choices, timed by the flow-level model, and fed back to the planner
/// (each tree member observes its own flow cost). All planners run on the same ring, links, apps and seed.
/// </summary>
internal sealed class PlanningSimulation
{
    private readonly PlanningSimOptions _options;
    private readonly ImmutableArray<RingNodeState?> _rings;
    private readonly PlanningLinks _links;
    private readonly NetworkModel _network;

    public PlanningSimulation(PlanningSimOptions options)
    {
        _options = options.Validated();
        var ring = new RingSimulation(new RingSimOptions(options.Nodes, Zones: 1, BitsPerDigit: 4, options.Seed, options.CandidatesPerSlot, Lookups: 0, ChurnPercent: 0));
        ring.Build();
        ring.Settle(TimeSpan.FromSeconds(60));
        _rings = ring.ZoneRingStates();
        _network = new NetworkModel(ring.Topology, NetworkSettings.Default, options.Seed);
        var random = new Random(options.Seed);
        _links = PlanningLinks.Generate(options.Nodes, options.Heterogeneity, random);
        Apps = CreateApps(options, _rings, random);
    }

    public ImmutableArray<PlanningApp> Apps { get; }

    public PlanningLinks Links => _links;

    public PlanningForest NewForest() => new(_rings, _links, _network, Apps, _options.FanOutCap) { ProbeBytes = _options.ProbeBytes };

    public PlannerRun Run(PlannerKind kind, Action<int>? progress = null)
    {
        var planner = PathPlanners.Create(kind, _options.Planning, new Random((_options.Seed * 31) + (int)kind));
        var forest = NewForest();
        var rounds = ImmutableArray.CreateBuilder<PlanningRound>(_options.Rounds);
        var appTimes = Apps.Select(_ => ImmutableArray.CreateBuilder<double>(_options.Rounds)).ToArray();
        var pathCost = Apps.Select(_ => new double[_options.Nodes]).ToArray();
        var previous = Apps.Select(_ => new int[_options.Nodes]).ToArray();
        var noise = new Random((_options.Seed * 31) + (int)kind + 7919);
        var probes = new List<(int Prober, int Target)>();
        for (var round = 1; round <= _options.Rounds; round++)
        {
            double dissemination = 0, aggregation = 0, max = 0;
            var switches = 0;
            for (var app = 0; app < Apps.Length; app++)
            {
                forest.Build(app, planner.Choose);
            }

            for (var app = 0; app < Apps.Length; app++)
            {
                var time = forest.Time(app, pathCost[app]);
                dissemination += time.Dissemination;
                aggregation += time.Aggregation;
                max = Math.Max(max, time.Total);
                appTimes[app].Add(time.Total);
                foreach (var node in forest.Members(app))
                {
                    var parent = forest.ParentOf(app, node);
                    if (parent < 0)
                    {
                        continue;
                    }

                    switches += round > 1 && previous[app][node] != parent + 1 ? 1 : 0;
                    previous[app][node] = parent + 1;
                    planner.Observe(forest.Point(app, node), forest.Entry(app, node, parent).Id, pathCost[app][node]);
                }
            }

            var charged = probes.Count;
            var modelBytes = Enumerable.Range(0, Apps.Length).Sum(app => 2 * (forest.Members(app).Count - 1) * Apps[app].ModelBytes);
            probes.Clear();
            if (planner is IProbingPlanner prober)
            {
                Probe(prober, forest, pathCost, noise, probes);
            }

            NashGap? gap = round % _options.EpsilonEvery == 0 || round == _options.Rounds
                ? NashGap.Measure(new PlanningGame(forest, pathCost, planner))
                : null;
            var players = Enumerable.Range(0, Apps.Length).Sum(app => forest.Members(app).Count - 1);
            rounds.Add(new PlanningRound(
                round,
                dissemination / Apps.Length,
                aggregation / Apps.Length,
                (dissemination + aggregation) / Apps.Length,
                max,
                gap?.Additive,
                gap?.Relative,
                gap?.MeanCost,
                gap?.PlayersAboveTarget,
                players,
                switches,
                charged,
                2 * charged * _options.ProbeBytes,
                modelBytes));
            forest.SetProbes(probes);
            progress?.Invoke(round);
        }

        return new PlannerRun(kind, rounds.MoveToImmutable(), [.. appTimes.Select(times => times.MoveToImmutable())]);
    }

    /// <summary>
    /// After a round, every tree member may probe one alternative parent while its committed parent keeps the
    /// traffic. The probe's reading is the cost the member would pay if it switched alone (exact, from
    /// <see cref="PlanningGame"/>: the candidate link's transfer times plus the candidate's path to the root, which the
    /// candidate reports in its reply), times Gaussian measurement noise. The probes' bytes load the links in the next round.
    /// </summary>
    internal void Probe(IProbingPlanner planner, PlanningForest forest, double[][] pathCost, Random noise, List<(int Prober, int Target)> probes)
    {
        var game = new PlanningGame(forest, pathCost, planner);
        for (var app = 0; app < Apps.Length; app++)
        {
            foreach (var node in forest.Members(app))
            {
                if (forest.ParentOf(app, node) < 0)
                {
                    continue;
                }

                var candidates = forest.ValidParents(app, node);
                var point = forest.Point(app, node);
                if (planner.ProbeTarget(point, [.. candidates.Select(to => forest.Entry(app, node, to))]) is not { } target)
                {
                    continue;
                }

                var cost = game.DeviationCost(app, node, target.Address.Value);
                var reading = double.IsPositiveInfinity(cost) ? cost : Math.Max(0, cost * (1 + (_options.ProbeNoise * Gaussian(noise))));
                planner.ObserveProbe(point, target.Id, reading);
                probes.Add((node, target.Address.Value));
            }
        }
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>
    /// App k: key from its name, model bytes and subscriber count both ∝ (k+1)^−s (the largest has
    /// <see cref="PlanningSimOptions.TopAppShare"/> of the nodes, every app at least 5), subscribers drawn at random;
    /// the root is where the ring delivers the key.
    /// </summary>
    private static ImmutableArray<PlanningApp> CreateApps(PlanningSimOptions options, ImmutableArray<RingNodeState?> rings, Random random)
    {
        var live = Enumerable.Range(0, rings.Length).Where(node => rings[node] is not null).ToArray();
        var apps = ImmutableArray.CreateBuilder<PlanningApp>(options.Apps);
        for (var app = 0; app < options.Apps; app++)
        {
            var key = NodeId.FromName($"planning-app-{app}");
            var weight = Math.Pow(app + 1, -options.LoadSkew);
            var count = Math.Clamp((int)Math.Round(options.TopAppShare * live.Length * weight), 5, live.Length - 1);
            var root = RouteToRoot(rings, live[random.Next(live.Length)], key);
            var shuffled = live.Where(node => node != root).ToArray();
            random.Shuffle(shuffled);
            apps.Add(new PlanningApp(app, key, root, options.ModelBytes * weight, [.. shuffled.Take(count).Order()]));
        }

        return apps.MoveToImmutable();
    }

    private static int RouteToRoot(ImmutableArray<RingNodeState?> rings, int from, NodeId key)
    {
        var node = from;
        var converging = false;
        for (var hop = 0; hop < 64; hop++)
        {
            var ring = rings[node]!;
            var decision = ring.Decide(key, converging);
            if (decision.IsDeliverHere)
            {
                return node;
            }

            var next = decision.Candidates[0];
            converging = RouteDecider.Next(converging, decision, ring.Settings.Geometry, ring.Self.Id, next.Id, key);
            node = next.Address.Value;
        }

        throw new InvalidOperationException($"the route to {key} did not converge in 64 hops");
    }
}
