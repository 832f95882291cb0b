using Totoro.Actors.Sim;
using Totoro.Node.Cli;

namespace Totoro.Tests.Node.Cli;

public sealed class SimForestCommandTests
{
    [Test]
    public void A_small_forest_run_reports_bounded_depth_capped_fan_in_exactly_once_delivery_and_exact_folds()
    {
        var options = new ForestSimOptions(Nodes: 400, Topics: 2, Members: 120, FanOutCap: 8, Zones: 1, ModelBytes: 200_000, Seed: 4).Validated();
        var summary = SimForestCommand.Run(options, TextWriter.Null);

        Assert.That(summary.PerTopic, Has.Count.EqualTo(4), "two topics, two rounds each");
        Assert.That(summary.MaxRootFanIn, Is.LessThanOrEqualTo(8));
        Assert.That(summary.RootFanInWithinCap, Is.True);
        Assert.That(summary.EveryMemberExactlyOnce, Is.True);
        Assert.That(summary.OnePartialPerChildPerRound, Is.True);
        Assert.That(summary.EveryFoldExact, Is.True);
        Assert.That(summary.PerTopic.Select(t => t.MessagesPerPublish), Is.EqualTo(summary.PerTopic.Select(t => (long)t.TreeNodes - 1)), "one copy per tree edge");
        Assert.That(summary.PerTopic.Select(t => t.MulticastSeconds), Is.All.Positive, "a 200 kB blob takes virtual time on the links");
        Assert.That(summary.MaxDepth, Is.GreaterThanOrEqualTo(2), "120 members under a cap of 8 need two levels");
    }

    [Test]
    public void Options_out_of_range_are_refused_by_name()
    {
        Assert.That(() => new ForestSimOptions(100, 1, 500, 32, 1, 1000, 1).Validated(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("--members"));
        Assert.That(() => new ForestSimOptions(100, 0, 10, 32, 1, 1000, 1).Validated(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("--topics"));
        Assert.That(() => new ForestSimOptions(100, 1, 10, 1, 1, 1000, 1).Validated(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("fan-out-cap"));
    }
}
