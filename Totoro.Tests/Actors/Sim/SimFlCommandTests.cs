using Totoro.Actors.Fl;
using Totoro.Actors.Sim;
using Totoro.Node.Cli;
using Totoro.Tests.Actors.Fl;

namespace Totoro.Tests.Actors.Sim;

/// <summary><c>totoro sim fl</c> on a tiny synthetic configuration: both systems run and the table and files come out.</summary>
[TestFixture]
[Category("Simulation")]
public sealed class SimFlCommandTests
{
    [Test]
    public void A_tiny_experiment_runs_both_systems_and_prints_the_speedup_table()
    {
        var config = FlExperimentTests.Tiny with { ServerBandwidths = [1, 10] };
        var summary = SimFlCommand.Run(config, SimFlCommand.Synthetic, TextWriter.Null, useBar: false, parallelism: 2);

        Assert.That(summary.Runs.Select(r => r.System), Is.EqualTo(new[]
        {
            "baseline 1x, 1 apps", "baseline 10x, 1 apps", "totoro f=4, 1 apps",
            "baseline 1x, 2 apps", "baseline 10x, 2 apps", "totoro f=4, 2 apps",
        }));
        Assert.That(summary.Runs.SelectMany(r => r.AppResults).Select(a => a.Outcome), Has.All.EqualTo(nameof(AppOutcome.TargetReached)));
        Assert.That(summary.Runs.Select(r => r.TotalTimeToTargetSeconds), Has.All.GreaterThan(0));
        Assert.That(summary.Speedups, Has.Count.EqualTo(4));
        foreach (var s in summary.Speedups)
        {
            Assert.That(s.Speedup, Is.EqualTo(s.BaselineSeconds / s.TotoroSeconds).Within(1e-9));
        }

        // Totoro's roots are edge nodes; the baseline's is the one server, shared by both apps.
        var baseline = summary.Runs.Single(r => r.System == "baseline 1x, 2 apps");
        Assert.That(baseline.AppResults.Select(a => a.Root).Distinct().Count(), Is.EqualTo(1));

        var text = new StringWriter();
        SimFlCommand.Print(summary, text);
        Assert.That(text.ToString(), Does.Contain("Speedup of Totoro's total time-to-target").And.Contain("vs 10× server, f=4"));

        var directory = Path.Combine(Path.GetTempPath(), "totoro-sim-fl-" + Guid.NewGuid().ToString("N"));
        try
        {
            SimFlCommand.WriteFiles(directory, summary, TextWriter.Null);
            Assert.That(File.ReadAllLines(Path.Combine(directory, "fl-speedup.csv")), Has.Length.EqualTo(5));
            Assert.That(File.ReadAllText(Path.Combine(directory, "fl-tta-2apps.svg")), Does.StartWith("<svg").And.Contain("totoro f=4"));
            Assert.That(File.ReadAllLines(Path.Combine(directory, "fl-curves.csv")).Length, Is.GreaterThan(6));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Overlapped_evaluation_keeps_every_curve_of_both_systems()
    {
        var config = FlExperimentTests.Tiny with { AppCounts = [2], Target = 0.85 };
        var inline = SimFlCommand.Run(config with { Evaluation = EvaluationMode.Inline }, SimFlCommand.Synthetic, TextWriter.Null, useBar: false, parallelism: 2);
        var overlapped = SimFlCommand.Run(config with { Evaluation = EvaluationMode.Overlapped }, SimFlCommand.Synthetic, TextWriter.Null, useBar: false, parallelism: 2);

        Assert.That(overlapped.Runs.Select(r => r.System), Is.EqualTo(inline.Runs.Select(r => r.System)));
        foreach (var (before, after) in inline.Runs.Zip(overlapped.Runs))
        {
            Assert.That(
                after.AppResults.Select(a => (a.Outcome, a.Rounds, a.FinalAccuracy, Curve: string.Join(",", a.Curve.Select(p => $"{p.Round}:{p.Accuracy:R}")))),
                Is.EqualTo(before.AppResults.Select(a => (a.Outcome, a.Rounds, a.FinalAccuracy, Curve: string.Join(",", a.Curve.Select(p => $"{p.Round}:{p.Accuracy:R}"))))),
                before.System);
            TestContext.Out.WriteLine($"{before.System}: inline {before.TotalTimeToTargetSeconds:F4} s, overlapped {after.TotalTimeToTargetSeconds:F4} s, rounds {string.Join("/", after.AppResults.Select(a => a.Rounds))}");
        }

        // Runs that need more than one round gain each earlier round's evaluation.
        Assert.That(overlapped.Runs.Zip(inline.Runs).Count(p => p.First.TotalTimeToTargetSeconds < p.Second.TotalTimeToTargetSeconds), Is.GreaterThan(0));

        Assert.That(() => FlSettings.ParseEvaluation("sometimes"), Is.Null);
    }

    [TestCase("iid", "iid")]
    [TestCase("dirichlet:0.5", "dirichlet:0.5")]
    [TestCase("shards", "shards:2")]
    [TestCase("shards:3", "shards:3")]
    public void Partitions_parse(string text, string described) =>
        Assert.That(SimFlCommand.Describe(SimFlCommand.ParsePartition(text)), Is.EqualTo(described));

    [TestCase("dirichlet")]
    [TestCase("dirichlet:-1")]
    [TestCase("dirichlet:x")]
    [TestCase("zipf")]
    public void Bad_partitions_are_refused_by_name(string text) =>
        Assert.That(() => SimFlCommand.ParsePartition(text), Throws.TypeOf<FormatException>().With.Message.StartsWith("--partition"));

    [Test]
    public void A_bad_configuration_names_every_offending_option()
    {
        var errors = (FlExperimentTests.Tiny with { ClientsPerRound = 99, FanOuts = [1], Nodes = 1, ModelChunkBytes = 8 }).Validate();
        Assert.That(errors, Has.Some.Contains("--clients-per-round"));
        Assert.That(errors, Has.Some.Contains("--chunk-size"));
        Assert.That(errors, Has.Some.Contains("--fanout"));
        Assert.That(errors, Has.Some.Contains("--nodes"));
        Assert.That(() => FlExperimentPlan.Create(FlExperimentTests.Tiny with { WorkersPerApp = 0 }), Throws.ArgumentException.With.Message.Contains("--workers-per-app"));
    }
}
