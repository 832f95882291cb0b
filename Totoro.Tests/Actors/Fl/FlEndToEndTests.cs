using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class FlEndToEndTests
{
    [Test]
    public void Two_apps_on_a_static_tree_of_30_nodes_reach_their_targets()
    {
        var nodes = FlTestBed.Addresses(30);
        var alpha = nodes.Take(15).ToArray();
        var beta = nodes.Skip(15).ToArray();
        var topology = StaticTreeTopology.Empty.WithBalancedTree("alpha", alpha, fanOut: 3).WithBalancedTree("beta", beta, fanOut: 2);
        var links = new SimulatedLinkModel(new LinkProfile(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(5)));
        var bed = FlTestBed.Create(30, seed: 1, topology, links, deviceFlops: i => 1e6 * (1 + (i % 3)));

        var a = bed.Submit(3, FlTestBed.App("alpha").Target(0.85).Build());
        var b = bed.Submit(20, FlTestBed.App("beta").Partition(Partitioning.Dirichlet(0.5)).Target(0.85).Build());
        var resultA = bed.Run(a);
        var resultB = bed.Run(b);

        Assert.That(resultA.Outcome, Is.EqualTo(AppOutcome.TargetReached), $"alpha: {resultA}");
        Assert.That(resultB.Outcome, Is.EqualTo(AppOutcome.TargetReached), $"beta: {resultB}");
        Assert.That(resultA.FinalAccuracy, Is.GreaterThanOrEqualTo(0.85));
        var reports = FlTestBed.Reports(a);
        Assert.That(reports.Select(r => r.Round), Is.EqualTo(Enumerable.Range(1, (int)resultA.Rounds).Select(r => (long)r)));
        Assert.That(reports, Has.All.Matches<RoundReport>(r => r!.Participants == 5 && r.BytesUp > 0 && r.BytesDown > 0));
        Assert.That(reports.Select(r => r.VirtualTime), Is.Ordered.And.All.GreaterThan(TimeSpan.Zero));
        TestContext.Out.WriteLine($"alpha: {resultA.Rounds} rounds, {resultA.VirtualTime}; beta: {resultB.Rounds} rounds, {resultB.VirtualTime}");
    }

    [Test]
    public void Two_apps_never_exchange_updates()
    {
        var nodes = FlTestBed.Addresses(12);
        var topology = StaticTreeTopology.Empty
            .WithBalancedTree("alpha", nodes.Take(6).ToArray(), fanOut: 2)
            .WithBalancedTree("beta", nodes.Skip(6).ToArray(), fanOut: 2);
        var bed = FlTestBed.Create(12, seed: 2, topology);
        var results = new List<(SubtreeResult Result, Address To)>();
        bed.Scenario.Transport.OnDelivered += delivery =>
        {
            if (delivery.Envelope.Manifest == "fl.subtree-result.v1")
            {
                var message = (SubtreeResult)FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[0]);
                results.Add((message, delivery.To));
            }
        };

        var a = bed.Submit(0, FlTestBed.App("alpha").ClientsPerRound(6).OverSelection(1).Rounds(3).Build());
        var b = bed.Submit(6, FlTestBed.App("beta").ClientsPerRound(6).OverSelection(1).Rounds(3).Build());
        bed.Run(a);
        bed.Run(b);

        Assert.That(results, Is.Not.Empty);
        foreach (var (result, to) in results)
        {
            var members = topology.Workers(result.App);
            Assert.That(members, Does.Contain(result.From).And.Contain(to), $"{result.App} result from {result.From} to {to}");
            Assert.That(result.Folded!.Contributors.Select(c => members[(int)c]), Is.SubsetOf(members));
        }
    }
}
