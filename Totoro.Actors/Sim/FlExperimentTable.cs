using System.Collections.Immutable;
using Totoro.Actors.Fl;

namespace Totoro.Actors.Sim;

/// <summary>One cell of the Table-3 analog: Totoro at (apps, fan-out) against the baseline at (apps, server bandwidth).</summary>
internal sealed record FlSpeedup(int Apps, int FanOut, double ServerBandwidth, double? TotoroSeconds, double? BaselineSeconds, double? Speedup);

/// <summary>Everything an experiment measured: every run, the speedup table, and what the training cache saved.</summary>
internal sealed record FlExperimentResult(
    FlExperimentConfig Config, IReadOnlyList<FlRunResult> Runs, IReadOnlyList<FlSpeedup> Speedups, TrainingCacheStats Cache);

/// <summary>
/// Runs a whole experiment: per app count, the baseline at each server bandwidth, then Totoro at each fan-out, all on
/// the same edge network with the same apps, workers, partitions and selections. Trees are grown once per fan-out
/// for the largest app count (app i's tree does not depend on how many other apps run).
/// </summary>
internal static class FlExperiment
{
    public static FlExperimentResult Run(FlExperimentConfig config, FlDataCatalog catalog, TrainingResultCache cache, Action<FlProgress> progress, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(log);
        var plan = FlExperimentPlan.Create(config);
        var forests = new Dictionary<int, (ForestTopology Topology, int MaxChildren)>();
        foreach (var fanOut in config.FanOuts.Distinct())
        {
            forests[fanOut] = plan.ForestTopology(fanOut);
            log($"forest fan-out {fanOut}: {plan.Apps.Length} trees grown by subscription, largest node fan-out {forests[fanOut].MaxChildren}");
        }

        var counts = config.AppCounts.Distinct().Order().ToArray();
        var runs = new List<FlRunResult>();
        var total = counts.Length * (config.ServerBandwidths.Distinct().Count() + forests.Count);
        void One(string label, int apps, int? fanOut, double? bandwidth, int? maxChildren, NetworkTopology network, IFlTopology topology)
        {
            var index = runs.Count;
            var budget = (long)apps * config.Rounds;
            progress(new FlProgress(index, total, label, 0, budget));
            var result = FlSystemRun.Execute(
                label, fanOut, bandwidth, maxChildren, network, topology, plan.Specs[..apps], catalog, config.Seed, cache,
                done => progress(new FlProgress(index, total, label, done, budget)));
            runs.Add(result);
            var stats = cache.Stats;
            log($"{label}: total time-to-target {Format(result.TotalTimeToTargetSeconds)} (wall {result.WallSeconds:F0} s; cache {stats.TrainHits} hits / {stats.TrainMisses} misses)");
        }

        foreach (var apps in counts)
        {
            foreach (var bandwidth in config.ServerBandwidths.Distinct())
            {
                One($"baseline {bandwidth:0.##}x, {apps} apps", apps, null, bandwidth, null, plan.BaselineNetwork(bandwidth), plan.BaselineTopology());
            }

            foreach (var (fanOut, forest) in forests)
            {
                One($"totoro f={fanOut}, {apps} apps", apps, fanOut, null, forest.MaxChildren, plan.Edge, forest.Topology);
            }
        }

        return new FlExperimentResult(config, runs, Speedups(runs), cache.Stats);
    }

    /// <summary>Baseline total time-to-target over Totoro's, for every (apps, fan-out, server bandwidth).</summary>
    public static ImmutableArray<FlSpeedup> Speedups(IReadOnlyList<FlRunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return [.. from totoro in runs
                   where totoro.FanOut is not null
                   from baseline in runs
                   where baseline.ServerBandwidth is not null && baseline.Apps == totoro.Apps
                   select new FlSpeedup(
                       totoro.Apps, totoro.FanOut!.Value, baseline.ServerBandwidth!.Value,
                       totoro.TotalTimeToTargetSeconds, baseline.TotalTimeToTargetSeconds,
                       totoro.TotalTimeToTargetSeconds is > 0 && baseline.TotalTimeToTargetSeconds is { } b ? b / totoro.TotalTimeToTargetSeconds : null)];
    }

    private static string Format(double? seconds) => seconds is { } s ? $"{s:F1} s" : "missed";
}
