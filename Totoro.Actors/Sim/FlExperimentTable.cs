using System.Collections.Immutable;
using Totoro.Actors.Fl;

namespace Totoro.Actors.Sim;

/// <summary>
/// One cell of the Table-3 analog: Totoro at (apps, fan-out) against the baseline at (apps, server bandwidth).
/// <see cref="Speedup"/> compares total time-to-target. Totoro's folds round in float32 per tree level, so its models
/// differ from the baseline's in the last bits and an app may cross a noisy target a few rounds earlier or later;
/// <see cref="SameRoundsSpeedup"/> removes that: Totoro's time to finish as many rounds as each app needed on the
/// baseline (extrapolated at its mean round time where it stopped sooner), the last app's, against the baseline's total.
/// </summary>
internal sealed record FlSpeedup(
    int Apps, int FanOut, double ServerBandwidth, double? TotoroSeconds, double? BaselineSeconds, double? Speedup,
    double? TotoroSameRoundsSeconds, double? SameRoundsSpeedup);

/// <summary>Everything an experiment measured: every run, the speedup table, and what the training cache saved.</summary>
internal sealed record FlExperimentResult(
    FlExperimentConfig Config, IReadOnlyList<FlRunResult> Runs, IReadOnlyList<FlSpeedup> Speedups, TrainingCacheStats Cache)
{
    /// <summary>Per fan-out, each app of the largest app count among the others and alone (<see cref="FlExperimentConfig.SoloBaseline"/>; empty otherwise).</summary>
    public IReadOnlyList<FlInterference> Interference { get; init; } = [];
}

/// <summary>
/// Runs a whole experiment: per app count, the baseline at each server bandwidth and Totoro at each fan-out, all on
/// the same edge network with the same apps, workers, partitions and selections. Trees are grown once per fan-out
/// for the largest app count (app i's tree does not depend on how many other apps run).
/// </summary>
internal static class FlExperiment
{
    /// <summary>
    /// Runs every system at every app count. Runs that train the same models form a family — the baseline at every
    /// server size (the server folds each round in one batch), Totoro at one fan-out (one tree shape) — and run in
    /// order of app count with one training cache, which computes each app's rounds once per family; up to
    /// <paramref name="parallelism"/> families run at once, each on its own thread and deterministic worlds. With
    /// parallelism 1 the families share one cache, so models they have in common (all of them, with the exact fold)
    /// are trained once.
    /// </summary>
    public static FlExperimentResult Run(
        FlExperimentConfig config, FlDataCatalog catalog, Action<FlProgress> progress, Action<string> log, int parallelism = 1, string? cacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var plan = FlExperimentPlan.Create(config);
        var counts = config.AppCounts.Distinct().Order().ToArray();
        var bandwidths = config.ServerBandwidths.Distinct().ToArray();
        var fanOuts = config.FanOuts.Distinct().ToArray();
        var baseline = (from apps in counts from b in bandwidths select (Apps: apps, FanOut: (int?)null, Bandwidth: (double?)b)).ToList();
        var families = new List<List<(int Apps, int? FanOut, double? Bandwidth)>> { baseline };
        families.AddRange(fanOuts.Select(f => counts.Select(apps => (Apps: apps, FanOut: (int?)f, Bandwidth: (double?)null)).ToList()));
        var order = families.SelectMany(f => f).OrderBy(r => r.Apps).ThenBy(r => r.FanOut is null ? 0 : 1).ThenBy(r => r.Bandwidth).ThenBy(r => r.FanOut).ToList();
        var results = new FlRunResult?[order.Count];
        var caches = new TrainingCacheStats[families.Count];
        var gate = new Lock();
        var interference = new List<FlInterference>();
        void Log(string line)
        {
            lock (gate)
            {
                log(line);
            }
        }

        // One family at a time: they all share one cache (it has no locks, and runs one after another here). With the
        // exact fold every family trains the same models, so each app's rounds are computed once in all.
        using var shared = parallelism == 1 ? new TrainingResultCache(cacheDirectory) : null;
        Parallel.ForEach(families, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, (family, _, familyIndex) =>
        {
            using var own = shared is null ? new TrainingResultCache(cacheDirectory) : null;
            var cache = shared ?? own!;
            (ForestTopology Topology, int MaxChildren)? forest = null;
            if (family[0].FanOut is { } fanOut)
            {
                forest = plan.GrowForest(fanOut);
                Log($"forest fan-out {fanOut}: {plan.Apps.Length} trees grown by subscription, largest node fan-out {forest.Value.MaxChildren}");
            }

            foreach (var run in family)
            {
                var index = order.IndexOf(run);
                var label = run.FanOut is { } f ? $"totoro f={f}, {run.Apps} apps" : $"baseline {run.Bandwidth:0.##}x, {run.Apps} apps";
                var budget = (long)run.Apps * config.Rounds;
                lock (gate)
                {
                    progress(new FlProgress(index, order.Count, label, 0, budget));
                }

                var result = FlSystemRun.Execute(
                    label, run.FanOut, run.Bandwidth, forest?.MaxChildren,
                    forest is null ? plan.BaselineNetwork(run.Bandwidth!.Value) : plan.Edge,
                    forest is null ? plan.BaselineTopology() : forest.Value.Topology,
                    plan.Specs[..run.Apps], catalog, config.Seed, cache,
                    done =>
                    {
                        lock (gate)
                        {
                            progress(new FlProgress(index, order.Count, label, done, budget));
                        }
                    },
                    config.RoleSettings());
                results[index] = result;
                var stats = cache.Stats;
                Log($"{label}: total time-to-target {Format(result.TotalTimeToTargetSeconds)} (wall {result.WallSeconds:F0} s; family cache {stats.TrainHits} hits / {stats.TrainMisses} misses so far)");
            }

            if (config.SoloBaseline && forest is { } grown && family[0].FanOut is { } soloFanOut)
            {
                var largest = family.Max(r => r.Apps);
                var together = results[order.IndexOf(family.Single(r => r.Apps == largest))]!;
                var alone = Enumerable.Range(0, largest).Select(i => FlSystemRun.Execute(
                    $"totoro f={soloFanOut}, {plan.Specs[i].Name} alone", soloFanOut, null, grown.MaxChildren, plan.Edge, grown.Topology,
                    [plan.Specs[i]], catalog, config.Seed, cache, _ => { }, config.RoleSettings(), firstSubmitter: i)).ToList();
                var comparison = FlInterference.Compare(together, alone);
                lock (gate)
                {
                    interference.Add(comparison);
                }

                Log($"totoro f={soloFanOut}: each of {largest} apps alone — among ÷ alone median {comparison.MedianRatio:F3}, max {comparison.MaxRatio:F3}; total ÷ slowest alone {comparison.TotalOverSlowestAlone:F3}");
            }

            caches[familyIndex] = own?.Stats ?? TrainingCacheStats.Zero;
        });

        var runs = results.Select(r => r!).ToList();
        return new FlExperimentResult(config, runs, Speedups(runs), shared?.Stats ?? caches.Aggregate(TrainingCacheStats.Zero, (sum, c) => sum.Plus(c)))
        {
            Interference = [.. interference.OrderBy(i => i.FanOut)],
        };
    }

    /// <summary>Baseline total time-to-target over Totoro's, for every (apps, fan-out, server bandwidth).</summary>
    public static ImmutableArray<FlSpeedup> Speedups(IReadOnlyList<FlRunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return [.. from totoro in runs
                   where totoro.FanOut is not null
                   from baseline in runs
                   where baseline.ServerBandwidth is not null && baseline.Apps == totoro.Apps
                   let same = SameRounds(totoro, baseline)
                   select new FlSpeedup(
                       totoro.Apps, totoro.FanOut!.Value, baseline.ServerBandwidth!.Value,
                       totoro.TotalTimeToTargetSeconds, baseline.TotalTimeToTargetSeconds,
                       totoro.TotalTimeToTargetSeconds is > 0 && baseline.TotalTimeToTargetSeconds is { } b ? b / totoro.TotalTimeToTargetSeconds : null,
                       same,
                       same is > 0 && baseline.TotalTimeToTargetSeconds is { } b2 ? b2 / same : null)];
    }

    /// <summary>The last app's time in <paramref name="totoro"/> to complete the rounds it needed in <paramref name="baseline"/>; null if any app missed.</summary>
    private static double? SameRounds(FlRunResult totoro, FlRunResult baseline)
    {
        double? last = 0;
        foreach (var (t, b) in totoro.AppResults.Zip(baseline.AppResults))
        {
            var needed = b.TimeToTargetSeconds is null ? null : b.Curve.FirstOrDefault(p => p.VirtualSeconds >= b.TimeToTargetSeconds)?.Round;
            // Where Totoro stopped sooner (it crossed the target in fewer rounds), extrapolate at its mean round time.
            var at = needed is null ? null
                : t.Curve.FirstOrDefault(p => p.Round == needed)?.VirtualSeconds
                  ?? (t.TimeToTargetSeconds is { } own && t.Rounds > 0 ? own * needed / t.Rounds : null);
            last = at is null || last is null ? null : Math.Max(last.Value, at.Value);
        }

        return last;
    }

    private static string Format(double? seconds) => seconds is { } s ? $"{s:F1} s" : "missed";
}
