using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Ml.Data;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Actors.Fl;

/// <summary>N nodes on one deterministic world, each running the FL host, with a small synthetic data set.</summary>
internal sealed class FlTestBed
{
    public const string Blobs = "blobs";

    private FlTestBed(Scenario scenario, IFlTopology topology, FlEngine[] engines)
    {
        Scenario = scenario;
        Topology = topology;
        Engines = engines;
    }

    public static SerializerRegistry Registry { get; } = CreateRegistry();

    /// <summary>Four Gaussian blobs in 16 dimensions: 3000 training samples, 600 held out (same centres).</summary>
    public static FlDataCatalog Catalog { get; } = CreateCatalog();

    public static SampleStore Training => Catalog.TryGet(Blobs, out var data) ? data.Train : throw new InvalidOperationException();

    public Scenario Scenario { get; }

    public IFlTopology Topology { get; }

    public FlEngine[] Engines { get; }

    public static ImmutableArray<Address> Addresses(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Address("totoro", $"node-{i}", 2552))];

    public static FlTestBed Create(
        int nodes,
        int seed,
        IFlTopology topology,
        ILinkModel? linkModel = null,
        Func<int, double?>? deviceFlops = null,
        bool passByReference = false,
        FlSettings? settings = null,
        Totoro.Actors.Sim.ITrainingResultCache? cache = null)
    {
        var scenario = Scenario.Create(nodes, seed, linkModel, serializeAll: true, passByReference: passByReference, serialization: Registry);
        var engines = Enumerable.Range(0, nodes)
            .Select(i => FlEngine.Start(scenario[i], new FlNodeOptions(topology, Catalog, settings ?? FlSettings.Default, deviceFlops?.Invoke(i)) { Cache = cache }))
            .ToArray();
        scenario.RunUntilIdle();
        return new FlTestBed(scenario, topology, engines);
    }

    public static TotoroApp App(string name) => TotoroApp.Define(name)
        .Model("logreg")
        .Data(Blobs)
        .Partition(Partitioning.Iid())
        .Rounds(20)
        .ClientsPerRound(5)
        .LocalEpochs(1)
        .BatchSize(16)
        .LearningRate(0.1)
        .RoundDeadline(TimeSpan.FromSeconds(60))
        .Seed(7);

    public AppHandle Submit(int node, AppSpec spec) => Scenario.Await(Engines[node].SubmitAsync(spec));

    public AppResult Run(AppHandle handle) => Scenario.Await(handle.Completion, TimeSpan.FromHours(10));

    public static IReadOnlyList<RoundReport> Reports(AppHandle handle) => [.. handle.Reports.ToBlockingEnumerable()];

    private static SerializerRegistry CreateRegistry()
    {
        var registry = SerializerRegistry.CreateWithKernelMessages();
        FlSerializers.Register(registry);
        return registry;
    }

    private static FlDataCatalog CreateCatalog()
    {
        const int features = 16;
        const int train = 3000;
        var all = SyntheticData.GaussianBlobs(train + 600, features, classes: 4, separation: 2.5f, seed: 11);
        return FlDataCatalog.Empty.With(Blobs, all.Slice(0, train), all.Slice(train, all.Count - train));
    }
}
