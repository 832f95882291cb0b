using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using Totoro.Actors.Fl;

namespace Totoro.Actors.Sim;

/// <summary>
/// One evaluated round of one app: accuracy after round <see cref="Round"/>, at virtual time since the app started, and
/// the test loss (a float64 of the model's every bit, so two systems that trained the same model report the same loss).
/// </summary>
internal sealed record FlCurvePoint(long Round, double Accuracy, double VirtualSeconds)
{
    public double Loss { get; init; } = double.NaN;
}

/// <summary>One app in one run: where it was rooted, how it ended, its time-to-target (null: missed) and its curve.</summary>
internal sealed record FlAppResult(
    string App, string Root, string Outcome, long Rounds, double FinalAccuracy, double? TimeToTargetSeconds, long BytesMoved,
    IReadOnlyList<long> Invited, IReadOnlyList<FlCurvePoint> Curve);

/// <summary>
/// One system at one app count. <see cref="TotalTimeToTargetSeconds"/> is the paper's "total training time": until the
/// last app reached its target (null if any app missed it).
/// </summary>
internal sealed record FlRunResult(
    string System, int Apps, int? FanOut, double? ServerBandwidth, double? TotalTimeToTargetSeconds, double? MeanTimeToTargetSeconds,
    int? MaxChildren, double WallSeconds, IReadOnlyList<FlAppResult> AppResults, FlLoad? Load = null);

/// <summary>Progress of a run: which run of how many, its label, and the rounds completed so far of the rounds it may take.</summary>
internal readonly record struct FlProgress(int Run, int Runs, string Label, long RoundsDone, long RoundBudget);

/// <summary>Runs one system (a placement of the apps) on an in-process cluster until every app ends.</summary>
internal static class FlSystemRun
{
    /// <summary>The virtual time a run may take before it is cut off (apps then report "Unfinished").</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromDays(7);

    /// <summary>
    /// Runs <paramref name="specs"/> together until each ends. App i is submitted at node <paramref name="firstSubmitter"/> + i,
    /// so an app run alone can be submitted where it was among the others.
    /// </summary>
    public static FlRunResult Execute(
        string system, int? fanOut, double? serverBandwidth, int? maxChildren, NetworkTopology network, IFlTopology topology,
        IReadOnlyList<AppSpec> specs, FlDataCatalog catalog, int seed, ITrainingResultCache? cache, Action<long> roundsDone, FlSettings? settings = null,
        int firstSubmitter = 0)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(roundsDone);
        var wall = Stopwatch.StartNew();
        var cluster = InProcessFlCluster.Create(network, topology, catalog, seed, cache, settings);
        var reports = new ConcurrentQueue<RoundReport>();
        var handles = specs.Select((spec, i) => cluster.Submit((firstSubmitter + i) % network.Nodes.Length, spec)).ToArray();
        var readers = handles.Select(h => Task.Run(async () =>
        {
            await foreach (var report in h.Reports.ConfigureAwait(false))
            {
                reports.Enqueue(report);
            }
        })).ToArray();
        var byApp = specs.ToDictionary(s => s.Name, _ => new List<RoundReport>());
        long rounds = 0;
        void Drain()
        {
            while (reports.TryDequeue(out var report))
            {
                byApp[report.App].Add(report);
                roundsDone(++rounds);
            }
        }

        // Coarse steps while nothing is due; the world runs every event inside a step in virtual-time order anyway.
        var step = TimeSpan.FromSeconds(5);
        while (!handles.All(h => h.Completion.IsCompleted) && cluster.Now < Limit)
        {
            cluster.Advance(step);
            Drain();
        }

        foreach (var handle in handles.Where(h => !h.Completion.IsCompleted))
        {
            handle.Cancel();
        }

        cluster.Advance(TimeSpan.FromSeconds(1));
        Task.WaitAll(readers, TimeSpan.FromSeconds(60));
        Drain();
        var results = specs.Select((spec, i) => Summarize(spec, topology.Root(spec.Name).Host ?? "?", handles[i], byApp[spec.Name])).ToArray();
        var times = results.Select(r => r.TimeToTargetSeconds).ToArray();
        var complete = times.All(t => t is not null);
        return new FlRunResult(
            system, specs.Count, fanOut, serverBandwidth,
            complete ? times.Max() : null, complete ? times.Average() : null,
            maxChildren, wall.Elapsed.TotalSeconds, results,
            FlLoad.Measure(topology, specs.Select(s => s.Name), cluster.Addresses, cluster.Uplink));
    }

    private static FlAppResult Summarize(AppSpec spec, string root, AppHandle handle, List<RoundReport> reports)
    {
        var curve = reports.Select(r => new FlCurvePoint(r.Round, r.Accuracy, r.VirtualTime.TotalSeconds) { Loss = r.Loss }).ToImmutableArray();
        var reached = reports.FirstOrDefault(r => r.Accuracy >= spec.TargetAccuracy);
        var outcome = handle.Completion.IsCompletedSuccessfully ? handle.Completion.Result.Outcome.ToString() : "Unfinished";
        return new FlAppResult(
            spec.Name, root, outcome, reports.Count, reports.Count == 0 ? 0 : reports[^1].Accuracy, reached?.VirtualTime.TotalSeconds,
            reports.Sum(r => r.BytesUp + r.BytesDown), [.. reports.SelectMany(r => r.Invited).Select(w => (long)w)], curve);
    }
}
