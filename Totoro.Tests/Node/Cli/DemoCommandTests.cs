using Totoro.Ml.Data;
using Totoro.Node.Cli;

namespace Totoro.Tests.Node.Cli;

[Category("Data")]
public sealed class DemoCommandTests
{
    [Test]
    public void The_demo_trains_every_application_on_its_own_tree_and_reports_each_round()
    {
        var (train, test) = FashionMnist.Load();
        var progress = new StringWriter();

        var summary = DemoCommand.Run((train.Slice(0, 2400), test.Slice(0, 500)), nodeCount: 12, zoneCount: 2, rounds: 2, clients: 3, fanOut: 3, seed: 5, progress);

        Assert.That(summary.Topology, Is.EqualTo("forest"), "the apps' trees are grown by the forest protocol");
        Assert.That(summary.Apps.Select(a => a.App), Is.EqualTo(new[] { "fashion-lenet5", "fashion-mlp", "fashion-logreg" }));
        Assert.That(summary.Apps.Select(a => a.Outcome), Has.None.EqualTo("Unfinished").And.None.EqualTo("Failed"));
        Assert.That(summary.Apps.Select(a => a.Rounds), Has.All.InRange(1L, 2L));
        Assert.That(summary.Apps.Select(a => a.FinalAccuracy), Has.All.GreaterThan(0.1), "better than chance on 10 classes");
        Assert.That(summary.Apps.Select(a => a.BytesMoved), Has.All.Positive);
        foreach (var app in summary.Apps)
        {
            Assert.That(progress.ToString(), Does.Contain($"{app.App,-15} round   1"));
        }
    }
}
