using System.Collections.Immutable;
using Totoro.Actors.Fl;

namespace Totoro.Actors.Sim;

/// <summary>One app's time-to-target among all the run's apps and alone, on the same trees, data and selections.</summary>
internal sealed record FlSoloApp(string App, double? AmongSeconds, double? AloneSeconds)
{
    /// <summary>Among ÷ alone: how much the other apps slowed this one (null if either missed the target).</summary>
    public double? Ratio => AmongSeconds is { } among && AloneSeconds is > 0 ? among / AloneSeconds.Value : null;
}

/// <summary>
/// Per-app interference at <see cref="Apps"/> concurrent apps on Totoro with fan-out <see cref="FanOut"/> (<c>sim fl
/// --solo-baseline</c>). The apps learn from different data and need different round counts, so the N-app total (the
/// slowest app) against app-00 alone mixes app variance into "flatness"; this compares each app with itself.
/// <see cref="TotalOverSlowestAlone"/> is the N-app total over the slowest app's time alone: what running the apps
/// together cost the last one to finish, whatever its round count.
/// </summary>
internal sealed record FlInterference(
    int Apps, int FanOut, double? MedianRatio, double? MaxRatio, double? TotalSeconds, double? SlowestAloneSeconds, double? TotalOverSlowestAlone,
    IReadOnlyList<FlSoloApp> PerApp)
{
    /// <summary>Pairs <paramref name="together"/> (the N-app run) with each app's solo run (<paramref name="alone"/>, in app order).</summary>
    public static FlInterference Compare(FlRunResult together, IReadOnlyList<FlRunResult> alone)
    {
        ArgumentNullException.ThrowIfNull(together);
        ArgumentNullException.ThrowIfNull(alone);
        if (alone.Count != together.AppResults.Count || alone.Any(a => a.AppResults.Count != 1))
        {
            throw new ArgumentException($"need one single-app run per app of the {together.Apps}-app run, got {alone.Count}", nameof(alone));
        }

        var perApp = together.AppResults.Zip(alone, (a, solo) =>
        {
            var own = solo.AppResults[0];
            if (own.App != a.App)
            {
                throw new ArgumentException($"solo run of {own.App} paired with {a.App}", nameof(alone));
            }

            return new FlSoloApp(a.App, a.TimeToTargetSeconds, own.TimeToTargetSeconds);
        }).ToImmutableArray();
        var ratios = perApp.Select(p => p.Ratio).ToArray();
        var complete = ratios.All(r => r is not null);
        var slowestAlone = perApp.All(p => p.AloneSeconds is not null) ? perApp.Max(p => p.AloneSeconds) : null;
        return new FlInterference(
            together.Apps, together.FanOut ?? 0,
            complete ? Median(ratios.Select(r => r!.Value)) : null,
            complete ? ratios.Max() : null,
            together.TotalTimeToTargetSeconds, slowestAlone,
            together.TotalTimeToTargetSeconds is { } total && slowestAlone is > 0 ? total / slowestAlone.Value : null,
            perApp);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
