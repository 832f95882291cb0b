using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Totoro.Actors.Fl;
using Totoro.Actors.Forest;
using Totoro.Actors.Sim;
using Totoro.Kernel;
using Totoro.Ml.Data;

namespace Totoro.Node.Cli;

/// <summary>
/// <c>totoro demo</c>: an in-process cluster training several FashionMNIST applications at once, each with its own
/// root and tree, with a line per round and a summary table. Real training, virtual network time.
/// </summary>
internal static class DemoCommand
{
    internal sealed record DemoApp(string Name, string Model, Partitioning Partitioning, double Target, double LearningRate, int ClientsFactor);

    internal sealed record DemoAppResult(
        string App, string Model, string Outcome, long Rounds, double FinalAccuracy, double Target, string Root,
        double VirtualSeconds, long BytesMoved);

    internal sealed record DemoSummary(
        int Nodes, int Zones, int FanOut, string Topology, int Seed, double WallSeconds, IReadOnlyList<DemoAppResult> Apps);

    private static readonly DemoApp[] Apps =
    [
        new("fashion-lenet5", "lenet5", Partitioning.Dirichlet(0.5), 0.85, 0.02, 2),
        new("fashion-mlp", "mlp", Partitioning.Iid(), 0.84, 0.05, 1),
        new("fashion-logreg", "logreg", Partitioning.Dirichlet(1.0), 0.80, 0.02, 1),
    ];

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "nodes in the in-process cluster", DefaultValueFactory = _ => 64 };
        var zones = new Option<int>("--zones") { Description = "edge zones on the simulated map", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "round budget per application", DefaultValueFactory = _ => 40 };
        var clients = new Option<int>("--clients") { Description = "workers per round per application", DefaultValueFactory = _ => 10 };
        var fanOut = new Option<int>("--fanout") { Description = "tree fan-out", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "seed of the network, partitions and selections", DefaultValueFactory = _ => 7 };
        var data = new Option<string>("--data") { Description = "FashionMNIST IDX directory", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TOTORO_FASHION_MNIST") ?? FashionMnist.DefaultDirectory };
        var json = new Option<bool>("--json") { Description = "print one JSON summary object" };
        var command = new Command("demo", "Train three FashionMNIST applications at once on an in-process cluster")
        {
            nodes, zones, rounds, clients, fanOut, seed, data, json,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(nodes), z = parse.GetValue(zones), r = parse.GetValue(rounds), k = parse.GetValue(clients), f = parse.GetValue(fanOut);
            if (n < 2 || z < 1 || z > n || r < 1 || k < 1 || k > n || f < 1)
            {
                Console.Error.WriteLine("demo: need --nodes ≥ 2, 1 ≤ --zones ≤ --nodes, --rounds ≥ 1, 1 ≤ --clients ≤ --nodes, --fanout ≥ 1");
                return 2;
            }

            (SampleStore Train, SampleStore Test) fashion;
            try
            {
                fashion = FashionMnist.Load(parse.GetValue(data)!);
            }
            catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
            {
                Console.Error.WriteLine($"demo: {error.Message}");
                return 3;
            }

            bool asJson = parse.GetValue(json);
            var summary = Run(fashion, n, z, r, k, f, parse.GetValue(seed), asJson ? TextWriter.Null : Console.Out);
            if (asJson)
            {
                JsonSummary.Write(Console.Out, summary);
            }
            else
            {
                Print(summary);
            }

            return summary.Apps.All(a => a.Outcome == nameof(AppOutcome.TargetReached)) ? 0 : 1;
        });
        return command;
    }

    internal static DemoSummary Run((SampleStore Train, SampleStore Test) fashion, int nodeCount, int zoneCount, int rounds, int clients, int fanOut, int seed, TextWriter progress)
    {
        var wall = Stopwatch.StartNew();
        var catalog = FlDataCatalog.Empty.With("fashion-mnist", fashion.Train, fashion.Test);
        var network = TopologyGenerator.Generate(zoneCount, nodeCount, NetworkSettings.Default, ZoneAssignment.Geographic, new Random(seed));
        var addresses = InProcessFlCluster.AddressesFor(nodeCount);

        // Each app's tree is grown by the forest protocol: a ring built by joins, every node subscribing to the app's
        // topic along its ring route; the root is the live node closest to the app's key.
        var driver = new ForestDriver(network, seed, ForestSettings.Default with { FanOutCap = fanOut });
        driver.Build(TimeSpan.FromMilliseconds(50));
        var everyNode = Enumerable.Range(0, nodeCount).ToImmutableArray();
        var topology = driver.GrowTrees([.. Apps.Select(app => new ForestApp(app.Name, everyNode))], addresses, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(30));
        var roots = Apps.ToDictionary(app => app.Name, app => topology.Root(app.Name));

        var cluster = InProcessFlCluster.Create(network, topology, catalog, seed);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cluster: {nodeCount} nodes in {zoneCount} zones, per-app trees with fan-out {fanOut}; training {Apps.Length} apps at once"));

        var reports = new ConcurrentQueue<RoundReport>();
        var handles = Apps.Select((app, i) => cluster.Submit(i % nodeCount, Spec(app, rounds, clients, nodeCount, seed))).ToArray();
        var readers = handles.Select(h => Task.Run(async () =>
        {
            await foreach (var report in h.Reports.ConfigureAwait(false))
            {
                reports.Enqueue(report);
            }
        })).ToArray();

        var bytes = Apps.ToDictionary(a => a.Name, _ => 0L);
        var step = TimeSpan.FromSeconds(1);
        var limit = TimeSpan.FromHours(24);
        while (!handles.All(h => h.Completion.IsCompleted) && cluster.Now < limit)
        {
            cluster.Advance(step);
            Drain(reports, bytes, progress);
        }

        Task.WaitAll(readers, TimeSpan.FromSeconds(30));
        Drain(reports, bytes, progress);
        var results = handles.Select((h, i) =>
        {
            var app = Apps[i];
            if (!h.Completion.IsCompleted)
            {
                return new DemoAppResult(app.Name, app.Model, "Unfinished", 0, 0, app.Target, roots[app.Name].Host!, cluster.Now.TotalSeconds, bytes[app.Name]);
            }

            var r = h.Completion.Result;
            return new DemoAppResult(app.Name, app.Model, r.Outcome.ToString(), r.Rounds, r.FinalAccuracy, app.Target, roots[app.Name].Host!, r.VirtualTime.TotalSeconds, bytes[app.Name]);
        }).ToArray();
        return new DemoSummary(nodeCount, zoneCount, fanOut, topology.Kind, seed, wall.Elapsed.TotalSeconds, results);
    }

    private static AppSpec Spec(DemoApp app, int rounds, int clients, int nodes, int seed) => TotoroApp.Define(app.Name)
        .Model(app.Model)
        .Data("fashion-mnist")
        .Partition(app.Partitioning)
        .Rounds(rounds)
        .ClientsPerRound(Math.Min(clients * app.ClientsFactor, nodes))
        .LocalEpochs(1)
        .BatchSize(32)
        .LearningRate(app.LearningRate)
        .Optimizer(LocalOptimizer.Sgd, momentum: 0.9)
        .Target(app.Target)
        .RoundDeadline(TimeSpan.FromMinutes(10))
        .Seed(seed)
        .Build();

    private static void Drain(ConcurrentQueue<RoundReport> reports, Dictionary<string, long> bytes, TextWriter progress)
    {
        while (reports.TryDequeue(out var r))
        {
            bytes[r.App] += r.BytesUp + r.BytesDown;
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{r.VirtualTime.TotalSeconds,7:F1} s] {r.App,-15} round {r.Round,3}: accuracy {r.Accuracy:P1}, loss {r.Loss:F3}, {r.Participants} workers"));
        }
    }

    private static void Print(DemoSummary summary)
    {
        var table = new Table().AddColumns("app", "model", "root", "outcome", "rounds", "accuracy", "target", "virtual time", "MB moved");
        foreach (var a in summary.Apps)
        {
            table.AddRow(
                a.App, a.Model, a.Root, a.Outcome, a.Rounds.ToString(CultureInfo.InvariantCulture),
                a.FinalAccuracy.ToString("P1", CultureInfo.InvariantCulture), a.Target.ToString("P0", CultureInfo.InvariantCulture),
                a.VirtualSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s",
                (a.BytesMoved / 1e6).ToString("F1", CultureInfo.InvariantCulture));
        }

        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 140;
        }

        AnsiConsole.Write(table);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{summary.Nodes} nodes, {summary.Zones} zones, {summary.Topology} trees (fan-out {summary.FanOut}), seed {summary.Seed}; wall time {summary.WallSeconds:F1} s"));
    }
}
