using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Totoro.Actors.Fl;
using Totoro.Actors.Sim;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Data;
using Totoro.Ml.Models;

namespace Totoro.Node.Cli;

/// <summary>
/// <c>totoro sim fl</c>: the paper's Table 3 in our simulator — Totoro (per-app forest trees) against one shared
/// central server, for several app counts, fan-outs and server sizes; real training, virtual time. Prints the
/// speedup table, writes CSV and SVG time-to-accuracy curves.
/// </summary>
internal static partial class SimFlCommand
{
    internal sealed record SimFlSummary(
        string Kind, string Date, int Cores, FlExperimentConfig Config, string Partition, IReadOnlyList<FlRunResult> Runs,
        IReadOnlyList<FlSpeedup> Speedups, TrainingCacheStats Cache, double WallSeconds)
    {
        /// <summary>Per fan-out, each app of the largest count among the others and alone (<c>--solo-baseline</c>; empty otherwise).</summary>
        public IReadOnlyList<FlInterference> Interference { get; init; } = [];
    }

    public static Command Create()
    {
        var defaults = new FlExperimentConfig();
        var nodes = new Option<int>("--nodes") { Description = "edge nodes (the baseline adds its server)", DefaultValueFactory = _ => defaults.Nodes };
        var zones = new Option<int>("--zones") { Description = "zones on the simulated map", DefaultValueFactory = _ => defaults.Zones };
        var apps = new Option<string>("--apps") { Description = "concurrent app counts, comma-separated", DefaultValueFactory = _ => "1,5,10,20" };
        var fanOut = new Option<string>("--fanout") { Description = "forest fan-out caps, comma-separated", DefaultValueFactory = _ => "8,16,32" };
        var model = new Option<string>("--model") { Description = "lenet5 | mlp | cnn | logreg | …", DefaultValueFactory = _ => defaults.Model };
        var target = new Option<double>("--target") { Description = "target test accuracy", DefaultValueFactory = _ => defaults.Target };
        var partition = new Option<string>("--partition") { Description = "iid | shards[:k] | dirichlet:α", DefaultValueFactory = _ => "dirichlet:0.5" };
        var workers = new Option<int>("--workers-per-app") { Description = "workers (subscribers) per app", DefaultValueFactory = _ => defaults.WorkersPerApp };
        var clients = new Option<int>("--clients-per-round") { Description = "workers selected per round", DefaultValueFactory = _ => defaults.ClientsPerRound };
        var bandwidth = new Option<string>("--server-bandwidth") { Description = "baseline server bandwidth factors (× median edge), comma-separated", DefaultValueFactory = _ => "1,10" };
        var compute = new Option<double>("--server-compute") { Description = "baseline server compute (× median edge)", DefaultValueFactory = _ => defaults.ServerCompute };
        var network = new Option<string>("--network") { Description = "uniform (every node the median edge node, as the paper's EC2 cluster) | edge (mixed links and devices)", DefaultValueFactory = _ => "uniform" };
        var rounds = new Option<int>("--rounds") { Description = "round budget per app", DefaultValueFactory = _ => defaults.Rounds };
        var learningRate = new Option<double>("--lr") { Description = "local SGD learning rate (momentum 0.9)", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => defaults.Seed };
        var dataset = new Option<string>("--dataset") { Description = "fashion-mnist | synthetic (Gaussian blobs, for quick checks)", DefaultValueFactory = _ => "fashion-mnist" };
        var data = new Option<string>("--data") { Description = "FashionMNIST IDX directory", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TOTORO_FASHION_MNIST") ?? FashionMnist.DefaultDirectory };
        var output = new Option<string?>("--out") { Description = "directory for CSV and SVG output", DefaultValueFactory = _ => "sim-out/fl" };
        var parallel = new Option<int>("--parallel") { Description = "families of runs (baseline; Totoro per fan-out) simulated at once, each on its own thread", DefaultValueFactory = _ => Math.Min(2, Environment.ProcessorCount) };
        var json = new Option<bool>("--json") { Description = "print exactly one JSON summary object on stdout" };
        var chunk = new Option<int>("--chunk-size") { Description = "bytes per model chunk streamed down the trees (≥ the model's size: whole models, store-and-forward)", DefaultValueFactory = _ => defaults.ModelChunkBytes };
        var evaluation = new Option<string>("--evaluation") { Description = "overlapped (the next round opens while the root evaluates the last) | inline (it waits), for both systems", DefaultValueFactory = _ => defaults.Evaluation.ToString().ToLowerInvariant() };
        var assignment = new Option<string>("--assignment") { Description = "shared (each app samples workers from all nodes; apps overlap) | disjoint (the paper's setup: every node works for at most one app; needs --nodes ≥ apps × --workers-per-app)", DefaultValueFactory = _ => defaults.Assignment.ToString().ToLowerInvariant() };
        var workload = new Option<string>("--workload") { Description = "distinct (app i has seed + i: its own partition, selections and batches) | replicated (every app is a copy of app-00's job on its own workers, key and tree: the apps differ only in where they run)", DefaultValueFactory = _ => defaults.Workload.ToString().ToLowerInvariant() };
        var warmup = new Option<double>("--ring-warmup") { Description = "virtual seconds the rings run after the last join, before apps subscribe (table maintenance with proximity refresh)", DefaultValueFactory = _ => defaults.RingWarmup.TotalSeconds };
        var maintenance = new Option<double>("--ring-maintenance") { Description = "routing-table maintenance period in virtual seconds (totoro.ring.table-maintenance-interval; 0 = off)", DefaultValueFactory = _ => defaults.RingMaintenance.TotalSeconds };
        var fold = new Option<string>("--fold") { Description = "fixed-point[:F] (exact, F fraction bits, default 32) | float, for both systems (totoro.fl.aggregation)", DefaultValueFactory = _ => "fixed-point" };
        var childBudget = new Option<int>("--child-budget") { Description = "forest: most children a node takes on along subscribe routes over all its trees (totoro.forest.node-child-budget; 0 = no budget)", DefaultValueFactory = _ => defaults.ChildBudget };
        var solo = new Option<bool>("--solo-baseline") { Description = "also run each app of the largest app count alone on Totoro (same trees, data, selections): per-app interference" };
        var command = new Command("fl", "Totoro (per-app forest trees) vs a shared central server: time-to-target for 1–20 concurrent apps");
        foreach (var option in new Option[] { nodes, zones, apps, fanOut, model, target, partition, workers, clients, bandwidth, compute, network, rounds, learningRate, seed, dataset, data, output, parallel, json, chunk, evaluation, assignment, workload, warmup, maintenance, fold, childBudget, solo })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            FlExperimentConfig config;
            try
            {
                config = new FlExperimentConfig
                {
                    Nodes = parse.GetValue(nodes),
                    Zones = parse.GetValue(zones),
                    AppCounts = ParseList(parse.GetValue(apps)!, "--apps", int.Parse),
                    Assignment = ParseAssignment(parse.GetValue(assignment)!),
                    Workload = ParseWorkload(parse.GetValue(workload)!),
                    RingWarmup = Seconds(parse.GetValue(warmup), "--ring-warmup"),
                    RingMaintenance = Seconds(parse.GetValue(maintenance), "--ring-maintenance"),
                    FanOuts = ParseList(parse.GetValue(fanOut)!, "--fanout", int.Parse),
                    ServerBandwidths = ParseList(parse.GetValue(bandwidth)!, "--server-bandwidth", s => double.Parse(s, CultureInfo.InvariantCulture)),
                    ServerCompute = parse.GetValue(compute),
                    Network = ParseNetwork(parse.GetValue(network)!),
                    Model = parse.GetValue(model)!,
                    Target = parse.GetValue(target),
                    Partitioning = ParsePartition(parse.GetValue(partition)!),
                    WorkersPerApp = parse.GetValue(workers),
                    ClientsPerRound = parse.GetValue(clients),
                    Rounds = parse.GetValue(rounds),
                    LearningRate = parse.GetValue(learningRate),
                    Seed = parse.GetValue(seed),
                    ModelChunkBytes = parse.GetValue(chunk),
                    Evaluation = FlSettings.ParseEvaluation(parse.GetValue(evaluation)!)
                        ?? throw new FormatException($"--evaluation: '{parse.GetValue(evaluation)}' is not overlapped or inline"),
                    Fold = ParseFold(parse.GetValue(fold)!),
                    ChildBudget = parse.GetValue(childBudget),
                    SoloBaseline = parse.GetValue(solo),
                };
            }
            catch (FormatException error)
            {
                Console.Error.WriteLine($"sim fl: {error.Message}");
                return 2;
            }

            var errors = config.Validate();
            if (!errors.IsEmpty)
            {
                Console.Error.WriteLine("sim fl: " + string.Join("; ", errors));
                return 2;
            }

            FlDataCatalog catalog;
            try
            {
                catalog = LoadCatalog(parse.GetValue(dataset)!, parse.GetValue(data)!, ref config);
            }
            catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException)
            {
                Console.Error.WriteLine($"sim fl: {error.Message}");
                return 3;
            }

            if (catalog.TryGet(config.Dataset, out var pool) && !ModelFactory.TryCreate(config.Model, 0, pool.Train.Shape, pool.Train.Classes, out _, out var unfit))
            {
                Console.Error.WriteLine($"sim fl: --model: '{config.Model}' cannot be built for --dataset {config.Dataset}: {unfit}");
                return 2;
            }

            if (parse.GetValue(parallel) < 1)
            {
                Console.Error.WriteLine("sim fl: --parallel must be ≥ 1");
                return 2;
            }

            var asJson = parse.GetValue(json);
            var summary = Run(config, catalog, Console.Error, useBar: !Console.IsErrorRedirected, parse.GetValue(parallel));
            if (parse.GetValue(output) is { } directory)
            {
                WriteFiles(directory, summary, Console.Error);
            }

            if (asJson)
            {
                JsonSummary.Write(Console.Out, summary);
            }
            else
            {
                Print(summary, Console.Out);
            }

            return summary.Runs.All(r => r.TotalTimeToTargetSeconds is not null) ? 0 : 1;
        });
        return command;
    }

    internal static SimFlSummary Run(FlExperimentConfig config, FlDataCatalog catalog, TextWriter log, bool useBar, int parallelism = 1)
    {
        var wall = Stopwatch.StartNew();
        FlExperimentResult result;
        if (useBar)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(log) });
            result = console.Progress().AutoClear(false).Start(context =>
            {
                var tasks = new Dictionary<int, ProgressTask>();
                return FlExperiment.Run(
                    config,
                    catalog,
                    p =>
                    {
                        if (!tasks.TryGetValue(p.Run, out var task))
                        {
                            tasks[p.Run] = task = context.AddTask($"[{p.Run + 1}/{p.Runs}] {Markup.Escape(p.Label)}", maxValue: p.RoundBudget);
                        }

                        task.Value = p.RoundsDone;
                    },
                    line => console.MarkupLine(Markup.Escape(line)),
                    parallelism);
            });
        }
        else
        {
            var started = new HashSet<int>();
            result = FlExperiment.Run(
                config,
                catalog,
                p =>
                {
                    if (started.Add(p.Run))
                    {
                        log.WriteLine($"[{p.Run + 1}/{p.Runs}] {p.Label} …");
                    }
                },
                log.WriteLine,
                parallelism);
        }

        return new SimFlSummary(
            "fl", TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture), Environment.ProcessorCount,
            config, Describe(config.Partitioning), result.Runs, result.Speedups, result.Cache, wall.Elapsed.TotalSeconds)
        {
            Interference = result.Interference,
        };
    }

    internal static FlDataCatalog LoadCatalog(string dataset, string directory, ref FlExperimentConfig config)
    {
        switch (dataset)
        {
            case "fashion-mnist":
                var (train, test) = FashionMnist.Load(directory);
                config = config with { Dataset = "fashion-mnist" };
                return FlDataCatalog.Empty.With("fashion-mnist", train, test);
            case "synthetic":
                config = config with { Dataset = "synthetic" };
                return Synthetic;
            default:
                throw new FormatException($"--dataset: '{dataset}' is not fashion-mnist or synthetic");
        }
    }

    /// <summary>Four Gaussian blobs in 16 dimensions: 4000 training samples, 1000 held out.</summary>
    internal static FlDataCatalog Synthetic { get; } = CreateSynthetic();

    internal static Partitioning ParsePartition(string text)
    {
        var parts = text.Split(':', 2);
        double Parameter(double fallback) => parts.Length < 2 ? fallback
            : double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value
            : throw new FormatException($"--partition: '{parts[1]}' is not a number");
        var partitioning = parts[0] switch
        {
            "iid" when parts.Length == 1 => Partitioning.Iid(),
            "shards" => Partitioning.LabelShards((int)Parameter(2)),
            "dirichlet" when parts.Length == 2 => Partitioning.Dirichlet(Parameter(0)),
            _ => throw new FormatException($"--partition: '{text}' is not iid, shards[:k] or dirichlet:α"),
        };
        return partitioning.Validate() is { } error ? throw new FormatException($"--partition: {error}") : partitioning;
    }

    internal static string Describe(Partitioning p) => p.Kind switch
    {
        PartitionKind.Iid => "iid",
        PartitionKind.Dirichlet => string.Create(CultureInfo.InvariantCulture, $"dirichlet:{p.Parameter}"),
        PartitionKind.LabelShards => string.Create(CultureInfo.InvariantCulture, $"shards:{p.Parameter}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"quantity:{p.Parameter}"),
    };

    /// <summary>"fixed-point" (F = 32), "fixed-point:F" or "float" (null: the float fold).</summary>
    internal static FixedPointFormat? ParseFold(string text)
    {
        var parts = text.Split(':', 2);
        if (parts[0] == "float" && parts.Length == 1)
        {
            return null;
        }

        if (parts[0] != "fixed-point")
        {
            throw new FormatException($"--fold: '{text}' is not fixed-point[:F] or float");
        }

        if (parts.Length == 1)
        {
            return FixedPointFormat.Default;
        }

        return int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int bits)
            && bits is >= FixedPointFormat.MinFractionBits and <= FixedPointFormat.MaxFractionBits
            ? new FixedPointFormat(bits)
            : throw new FormatException($"--fold: fraction bits '{parts[1]}' are not a whole number in [{FixedPointFormat.MinFractionBits}, {FixedPointFormat.MaxFractionBits}]");
    }

    internal static FlAssignment ParseAssignment(string text) => text switch
    {
        "shared" => FlAssignment.Shared,
        "disjoint" => FlAssignment.Disjoint,
        _ => throw new FormatException($"--assignment: '{text}' is not shared or disjoint"),
    };

    private static FlWorkload ParseWorkload(string text) => text.Trim().ToLowerInvariant() switch
    {
        "distinct" => FlWorkload.Distinct,
        "replicated" => FlWorkload.Replicated,
        _ => throw new FormatException($"--workload: '{text}' is not distinct or replicated"),
    };

    /// <summary>A finite, non-negative number of seconds below a day (so TimeSpan cannot overflow), or a FormatException naming the option.</summary>
    private static TimeSpan Seconds(double value, string option) =>
        double.IsFinite(value) && value >= 0 && value <= 86_400
            ? TimeSpan.FromSeconds(value)
            : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{option}: {value} is not a number of seconds in [0, 86400]"));

    private static FlNetworkProfile ParseNetwork(string text) => text switch
    {
        "uniform" => FlNetworkProfile.Uniform,
        "edge" => FlNetworkProfile.Edge,
        _ => throw new FormatException($"--network: '{text}' is not uniform or edge"),
    };

    private static ImmutableArray<T> ParseList<T>(string text, string option, Func<string, T> parse)
    {
        try
        {
            return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse)];
        }
        catch (Exception error) when (error is FormatException or OverflowException)
        {
            throw new FormatException($"{option}: '{text}' is not a comma-separated list of numbers");
        }
    }

    private static FlDataCatalog CreateSynthetic()
    {
        var all = SyntheticData.GaussianBlobs(5000, 16, classes: 4, separation: 2.5f, seed: 11);
        var train = all.All().Indices[..4000].ToArray();
        var test = all.All().Indices[4000..].ToArray();
        return FlDataCatalog.Empty.With("synthetic", Copy(all, train), Copy(all, test));
    }

    private static SampleStore Copy(SampleStore store, int[] indices)
    {
        var size = store.Shape.Size;
        var features = new float[indices.Length * size];
        var labels = new int[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            store.Features(indices[i]).CopyTo(features.AsSpan(i * size, size));
            labels[i] = store.Labels[indices[i]];
        }

        return new SampleStore(features, labels, store.Shape, store.Classes);
    }
}
