using Totoro.Actors.Sim;
using Totoro.Node.Cli;

namespace Totoro.Tests.Actors.Fl;

/// <summary><c>sim fl --solo-baseline</c>: each app of the largest count compared with itself run alone.</summary>
[TestFixture]
public sealed class FlInterferenceTests
{
    private static FlAppResult App(string name, double? seconds) => new(name, "root", "TargetReached", 5, 0.8, seconds, 0, [], []);

    private static FlRunResult Run(int? fanOut, params FlAppResult[] apps) =>
        new("totoro", apps.Length, fanOut, null, apps.All(a => a.TimeToTargetSeconds is not null) ? apps.Max(a => a.TimeToTargetSeconds) : null, null, null, 0, apps);

    [Test]
    public void Ratios_are_per_app_and_the_total_is_compared_with_the_slowest_app_alone()
    {
        var together = Run(8, App("app-00", 12), App("app-01", 30), App("app-02", 22));
        var alone = new[] { Run(8, App("app-00", 10)), Run(8, App("app-01", 25)), Run(8, App("app-02", 20)) };

        var result = FlInterference.Compare(together, alone);

        Assert.That(result.PerApp.Select(a => a.Ratio), Is.EqualTo(new double?[] { 1.2, 1.2, 1.1 }).Within(1e-12));
        Assert.That(result.MedianRatio, Is.EqualTo(1.2).Within(1e-12));
        Assert.That(result.MaxRatio, Is.EqualTo(1.2).Within(1e-12));
        Assert.That(result.SlowestAloneSeconds, Is.EqualTo(25));
        Assert.That(result.TotalOverSlowestAlone, Is.EqualTo(30.0 / 25).Within(1e-12));
        Assert.That(result.FanOut, Is.EqualTo(8));
    }

    [Test]
    public void A_missed_target_leaves_the_summary_empty_and_mismatched_runs_are_refused()
    {
        var missed = FlInterference.Compare(Run(8, App("app-00", 12), App("app-01", null)), [Run(8, App("app-00", 10)), Run(8, App("app-01", 25))]);
        Assert.That(missed.MedianRatio, Is.Null);
        Assert.That(missed.TotalOverSlowestAlone, Is.Null);

        Assert.That(() => FlInterference.Compare(Run(8, App("app-00", 1), App("app-01", 2)), [Run(8, App("app-00", 1))]), Throws.ArgumentException);
        Assert.That(() => FlInterference.Compare(Run(8, App("app-00", 1)), [Run(8, App("app-01", 1))]), Throws.ArgumentException);
    }

    [Test]
    [Category("Simulation")]
    public void The_solo_baseline_runs_each_app_of_the_largest_count_alone_on_the_same_tree()
    {
        var config = FlExperimentTests.Tiny with { SoloBaseline = true, Target = 0.5 };
        var result = FlExperiment.Run(config, SimFlCommand.Synthetic, _ => { }, _ => { }, parallelism: 1);

        var interference = result.Interference.Single();
        Assert.That(interference.Apps, Is.EqualTo(2));
        Assert.That(interference.FanOut, Is.EqualTo(4));
        var together = result.Runs.Single(r => r.FanOut == 4 && r.Apps == 2);
        Assert.That(interference.PerApp.Select(a => a.AmongSeconds), Is.EqualTo(together.AppResults.Select(a => a.TimeToTargetSeconds)));

        // App 0 alone is the 1-app run: same tree, data, selections and submitting node, so the same time.
        var single = result.Runs.Single(r => r.FanOut == 4 && r.Apps == 1).AppResults.Single();
        Assert.That(interference.PerApp[0].AloneSeconds, Is.EqualTo(single.TimeToTargetSeconds));
        // The ratio is among ÷ alone. It is not always ≥ 1: the network's jitter is one seeded stream, so another app's
        // messages shift every later draw, and in this 50 ms synthetic run one app finishes 1 % sooner among two.
        Assert.That(interference.PerApp.Select(a => a.Ratio), Is.EqualTo(interference.PerApp.Select(a => a.AmongSeconds / a.AloneSeconds)).Within(1e-12));
        Assert.That(FlExperiment.Run(config with { SoloBaseline = false }, SimFlCommand.Synthetic, _ => { }, _ => { }).Interference, Is.Empty);
    }
}
