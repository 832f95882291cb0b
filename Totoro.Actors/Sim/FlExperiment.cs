using Totoro.Actors.Ring;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Serialization;
using Totoro.Actors.Fl;
using Totoro.Actors.Forest;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Models;

namespace Totoro.Actors.Sim;

/// <summary>Which edge devices the experiment's network is made of.</summary>
internal enum FlNetworkProfile
{
    /// <summary>Every node is the median edge node (10/25 Mbit/s, 20 GFLOP/s): a homogeneous cluster, as the paper's 500 EC2 t2.medium.</summary>
    Uniform,

    /// <summary>The default edge mix of <see cref="NetworkSettings.Default"/>: constrained, broadband and fibre links; phones, laptops, edge servers.</summary>
    Edge,
}

/// <summary>How each app's workers are drawn from the edge nodes (<c>sim fl --assignment</c>; by name in JSON).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FlAssignment>))]
internal enum FlAssignment
{
    /// <summary>
    /// Every app samples its workers from all nodes independently, so apps overlap (at 20 apps × 100 workers on 500
    /// nodes a node works for ~4 apps): a stress case, harder than the paper's setup.
    /// </summary>
    Shared,

    /// <summary>
    /// The paper's artifact: every node works for at most one app (one seeded shuffle of the nodes, app i takes the
    /// i-th block); only roots and forwarders, placed by hashing and routing, may serve several apps.
    /// </summary>
    Disjoint,
}

/// <summary>What the apps of an experiment learn (<c>sim fl --workload</c>; by name in JSON).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FlWorkload>))]
internal enum FlWorkload
{
    /// <summary>App i has seed S + i: its own partition draw, selections and batch order, so apps need different round counts.</summary>
    Distinct,

    /// <summary>
    /// Every app makes app-00's random choices (seed S, <see cref="AppSpec.SeedName"/> app-00) on its own workers, key,
    /// root and tree: the same job N times, so the apps train identical models and differ only in where they run.
    /// </summary>
    Replicated,
}

/// <summary>
/// One <c>totoro sim fl</c> experiment: the paper's Table 3 in our simulator. For every app count, Totoro (per-app
/// forest trees, one per fan-out) and the shared-server baseline (one star server for all apps, one per server
/// bandwidth factor) train the same apps on the same network model.
/// </summary>
internal sealed record FlExperimentConfig
{
    public int Nodes { get; init; } = 500;

    public int Zones { get; init; } = 4;

    public ImmutableArray<int> AppCounts { get; init; } = [1, 5, 10, 20];

    /// <summary>Whether apps may share worker nodes (<see cref="FlAssignment"/>).</summary>
    public FlAssignment Assignment { get; init; } = FlAssignment.Shared;

    /// <summary>Whether the apps are different jobs or copies of app-00 (<see cref="FlWorkload"/>).</summary>
    public FlWorkload Workload { get; init; } = FlWorkload.Distinct;

    public ImmutableArray<int> FanOuts { get; init; } = [8, 16, 32];

    public ImmutableArray<double> ServerBandwidths { get; init; } = [1, 10];

    /// <summary>
    /// Virtual time the rings run after the last join and before any app subscribes (<c>--ring-warmup</c>): table
    /// maintenance with its proximity refresh, leaf-set exchanges and heartbeats. A deployed ring has run for hours
    /// before apps arrive; without this the trees would be grown on tables that still hold the first nodes each slot
    /// heard of (docs/experiments.md).
    /// </summary>
    public TimeSpan RingWarmup { get; init; } = TimeSpan.FromSeconds(200);

    /// <summary>The rings' routing-table maintenance period in the simulation (<c>--ring-maintenance</c>; <c>totoro.ring.table-maintenance-interval</c>).</summary>
    public TimeSpan RingMaintenance { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The baseline server's compute as a multiple of the median edge node (DESIGN §10: 4×).</summary>
    public double ServerCompute { get; init; } = 4;

    public FlNetworkProfile Network { get; init; } = FlNetworkProfile.Uniform;

    /// <summary>
    /// The forest's cross-tree child budget while the trees grow (<c>--child-budget</c>;
    /// <c>totoro.forest.node-child-budget</c>, 0 = none): a node already keeping this many children over all trees
    /// lets a passing subscribe continue toward the root instead of adopting it.
    /// </summary>
    public int ChildBudget { get; init; } = ForestSettings.DefaultNodeChildBudget;

    /// <summary>
    /// Whether to also run each app of the largest app count alone on Totoro, on the same trees, data and selections
    /// (<c>--solo-baseline</c>), for the per-app interference figure (<see cref="FlInterference"/>).
    /// </summary>
    public bool SoloBaseline { get; init; }

    public string Model { get; init; } = "lenet5";

    public string Dataset { get; init; } = "fashion-mnist";

    public double Target { get; init; } = 0.75;

    public Partitioning Partitioning { get; init; } = Partitioning.Dirichlet(0.5);

    public int WorkersPerApp { get; init; } = 100;

    public int ClientsPerRound { get; init; } = 20;

    public int Rounds { get; init; } = 80;

    public int LocalEpochs { get; init; } = 1;

    public int BatchSize { get; init; } = 32;

    public double LearningRate { get; init; } = 0.02;

    public double Momentum { get; init; } = 0.9;

    public int Seed { get; init; } = 7;

    /// <summary>
    /// Bytes per model chunk on the way down (both systems run the same roles with the same settings; the star's
    /// server has only leaves, so it sends whole models one after another whatever the size).
    /// </summary>
    public int ModelChunkBytes { get; init; } = FlSettings.Default.ModelChunkBytes;

    /// <summary>
    /// Whether a root opens the next round before evaluating the last one (both systems: the baseline server runs the
    /// same coordinator, so it overlaps its evaluations with its next round too).
    /// </summary>
    public EvaluationMode Evaluation { get; init; } = FlSettings.Default.Evaluation;

    /// <summary>
    /// How every node folds (both systems alike): exact fixed point by default, so Totoro's trees and the server's flat
    /// fold produce bit-identical models and the two need the same rounds; null for the float fold.
    /// </summary>
    public FixedPointFormat? Fold { get; init; } = FlSettings.Default.Fold;

    /// <summary>The role settings every node of every system runs with.</summary>
    public FlSettings RoleSettings() => FlSettings.Default with { ModelChunkBytes = ModelChunkBytes, Evaluation = Evaluation, Fold = Fold };

    /// <summary>Every error in the configuration, each naming its option.</summary>
    public ImmutableArray<string> Validate()
    {
        var errors = ImmutableArray.CreateBuilder<string>();
        void Check(bool ok, string message)
        {
            if (!ok)
            {
                errors.Add(message);
            }
        }

        Check(Nodes >= 2, "--nodes must be ≥ 2");
        Check(Zones >= 1 && Zones <= Nodes, "--zones must be in [1, --nodes]");
        Check(!AppCounts.IsDefaultOrEmpty && AppCounts.All(a => a >= 1), "--apps needs one or more counts ≥ 1");
        Check(!FanOuts.IsDefaultOrEmpty && FanOuts.All(f => f >= 2), "--fanout needs one or more fan-outs ≥ 2");
        Check(!ServerBandwidths.IsDefaultOrEmpty && ServerBandwidths.All(b => b > 0 && double.IsFinite(b)), "--server-bandwidth needs one or more positive factors");
        Check(ServerCompute > 0 && double.IsFinite(ServerCompute), "--server-compute must be positive");
        Check(ChildBudget >= 0, "--child-budget must be ≥ 0 (0 = no budget)");
        Check(RingWarmup >= TimeSpan.Zero, "--ring-warmup must be ≥ 0 seconds");
        Check(RingMaintenance >= TimeSpan.Zero, "--ring-maintenance must be ≥ 0 seconds (0 = off)");
        Check(WorkersPerApp >= 1 && WorkersPerApp <= Nodes, "--workers-per-app must be in [1, --nodes]");
        if (Assignment == FlAssignment.Disjoint && !AppCounts.IsDefaultOrEmpty && WorkersPerApp >= 1)
        {
            var needed = (long)AppCounts.Max() * WorkersPerApp;
            Check(
                needed <= Nodes,
                $"--assignment disjoint needs --nodes ≥ apps × --workers-per-app = {AppCounts.Max()} × {WorkersPerApp} = {needed}, but --nodes is {Nodes}");
        }

        Check(ClientsPerRound >= 1 && ClientsPerRound <= WorkersPerApp, "--clients-per-round must be in [1, --workers-per-app]");
        Check(Target is > 0 and <= 1, "--target must be in (0, 1]");
        Check(Rounds >= 1, "--rounds must be ≥ 1");
        Check(
            ModelChunkBytes is >= FlSettings.MinModelChunkBytes and <= FlSettings.MaxModelChunkBytes,
            $"--chunk-size must be in [{FlSettings.MinModelChunkBytes}, {FlSettings.MaxModelChunkBytes}] bytes");
        if (ModelFactory.NameError(Model) is { } unknown)
        {
            errors.Add("--model: " + unknown);
        }

        if (errors.Count == 0)
        {
            errors.AddRange(Spec(0).Validate().Select(e => "app: " + e));
        }

        return errors.ToImmutable();
    }

    public static string AppName(int index) => "app-" + index.ToString("D2", CultureInfo.InvariantCulture);

    /// <summary>
    /// App <paramref name="index"/>: the same spec in every system and every app count. Synchronous FedAvg with the
    /// whole selection (no over-selection, a deadline no round reaches), so every system trains the same models.
    /// </summary>
    public AppSpec Spec(int index) => TotoroApp.Define(AppName(index))
        .Model(Model)
        .Data(Dataset)
        .Partition(Partitioning)
        .Rounds(Rounds)
        .ClientsPerRound(ClientsPerRound)
        .OverSelection(1.0)
        .LocalEpochs(LocalEpochs)
        .BatchSize(BatchSize)
        .LearningRate(LearningRate)
        .Optimizer(LocalOptimizer.Sgd, Momentum)
        .Target(Target)
        .RoundDeadline(TimeSpan.FromHours(2))
        .Seed(Workload == FlWorkload.Replicated ? Seed : Seed + index)
        .SeedName(Workload == FlWorkload.Replicated ? AppName(0) : AppName(index))
        .Build();
}

/// <summary>What every system of an experiment shares: the edge network, each app's workers, the app specs.</summary>
internal sealed record FlExperimentPlan(
    FlExperimentConfig Config,
    NetworkTopology Edge,
    ImmutableArray<Address> Addresses,
    ImmutableArray<ForestApp> Apps,
    ImmutableArray<AppSpec> Specs)
{
    public static FlExperimentPlan Create(FlExperimentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = config.Validate();
        if (!errors.IsEmpty)
        {
            throw new ArgumentException("sim fl: " + string.Join("; ", errors), nameof(config));
        }

        var settings = config.Network == FlNetworkProfile.Edge ? NetworkSettings.Default : Uniform(NetworkSettings.Default);
        var edge = TopologyGenerator.Generate(config.Zones, config.Nodes, settings, ZoneAssignment.Geographic, new Random(config.Seed));
        var count = config.AppCounts.Max();
        var workers = AssignWorkers(config, count);
        var apps = Enumerable.Range(0, count).Select(i => new ForestApp(FlExperimentConfig.AppName(i), workers[i])).ToImmutableArray();
        return new FlExperimentPlan(config, edge, InProcessFlCluster.AddressesFor(config.Nodes + 1), apps, [.. Enumerable.Range(0, count).Select(config.Spec)]);
    }

    /// <summary>
    /// Each app's workers (node indices, in node order: contributor i is the i-th, so it takes partition i), the same
    /// in every system and every app count. <see cref="FlAssignment.Shared"/>: each app samples all nodes with its own
    /// seed. <see cref="FlAssignment.Disjoint"/>: one seeded shuffle of all nodes, app i takes block i, so every app's
    /// workers are a uniform sample and no node works for two apps.
    /// </summary>
    public static ImmutableArray<ImmutableArray<int>> AssignWorkers(FlExperimentConfig config, int apps)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Assignment == FlAssignment.Disjoint)
        {
            if ((long)apps * config.WorkersPerApp > config.Nodes)
            {
                throw new ArgumentException(
                    $"sim fl: disjoint assignment of {apps} apps × {config.WorkersPerApp} workers needs {(long)apps * config.WorkersPerApp} nodes, but there are {config.Nodes}",
                    nameof(apps));
            }

            var random = new Random(FlSeeds.Derive(config.Seed, "disjoint-assignment", -1));
            var shuffled = Enumerable.Range(0, config.Nodes).OrderBy(_ => random.Next()).ToArray();
            return [.. Enumerable.Range(0, apps).Select(i => shuffled.AsSpan(i * config.WorkersPerApp, config.WorkersPerApp).ToArray().Order().ToImmutableArray())];
        }

        return [.. Enumerable.Range(0, apps).Select(i =>
        {
            var random = new Random(FlSeeds.Derive(config.Seed, FlExperimentConfig.AppName(i), -1));
            return Enumerable.Range(0, config.Nodes).OrderBy(_ => random.Next()).Take(config.WorkersPerApp).Order().ToImmutableArray();
        })];
    }

    /// <summary>The baseline's network: the edge nodes plus the central server (last index), provisioned per DESIGN §10.</summary>
    public NetworkTopology BaselineNetwork(double bandwidthFactor)
    {
        var size = NetworkSettings.Default.MapSizeKm;
        var server = new SimNode(Edge.Nodes.Length, 0, new MapPoint(size / 2, size / 2), 1, 1, 1);
        var network = Edge with { Nodes = Edge.Nodes.Add(server) };
        return BaselineServer.Provision(network, server.Index, bandwidthFactor, Config.ServerCompute);
    }

    /// <summary>The baseline's placement: every app rooted at the server, its workers the same nodes as in Totoro.</summary>
    public SharedServerTopology BaselineTopology() =>
        new(Addresses[Edge.Nodes.Length], Apps.ToImmutableDictionary(a => a.Name, a => a.Workers.Select(w => Addresses[w]).ToImmutableArray()));

    /// <summary>Totoro's placement for fan-out cap <paramref name="fanOut"/>: the ring built by joins, the trees grown by subscriptions.</summary>
    public (ForestTopology Topology, int MaxChildren) GrowForest(int fanOut)
    {
        var driver = new ForestDriver(Edge, Config.Seed, ForestSettings.Default with { FanOutCap = fanOut, NodeChildBudget = Config.ChildBudget })
        {
            // Warm-up compresses time: every (short) maintenance period also refreshes proximity.
            RingSettings = RingSettings.Default with { TableMaintenanceInterval = Config.RingMaintenance, ProximityRefreshEvery = 1 },
        };
        driver.Build(TimeSpan.FromMilliseconds(50), Config.RingWarmup);
        var topology = driver.GrowTrees(Apps, Addresses[..Edge.Nodes.Length], TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(30));
        return (topology, Apps.Max(a => driver.MaxChildren(TopicId.For(a.Name))));
    }

    private static NetworkSettings Uniform(NetworkSettings settings)
    {
        var link = settings.BandwidthClasses.Single(c => c.Name == "broadband") with { Weight = 1 };
        var device = settings.ComputeClasses.Single(c => c.Name == "laptop") with { Weight = 1 };
        return settings with { BandwidthClasses = [link], ComputeClasses = [device] };
    }
}

/// <summary>The shared central server: one server node roots every app; each app's workers are its direct children.</summary>
internal sealed class SharedServerTopology(Address server, ImmutableDictionary<string, ImmutableArray<Address>> workers) : IFlTopology
{
    public string Kind => "shared-server";

    public Address Server { get; } = server;

    public Address Root(string app) => Server;

    public ImmutableArray<Address> Workers(string app) =>
        workers.TryGetValue(app, out var list) ? list : throw new KeyNotFoundException($"no workers for app '{app}'");

    public Address? Parent(string app, Address node) => node == Server ? null : Server;

    public ImmutableDictionary<Address, ImmutableArray<int>> RouteToChildren(string app, Address node, ImmutableArray<int> workers)
    {
        var list = Workers(app);
        return node != Server ? ImmutableDictionary<Address, ImmutableArray<int>>.Empty : workers.ToImmutableDictionary(w => list[w], w => ImmutableArray.Create(w));
    }
}
