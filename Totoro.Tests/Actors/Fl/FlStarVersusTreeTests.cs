using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Actors.Sim;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

/// <summary>
/// Two apps over the same 30 edge workers on the simulated network (queueing access links, distance latency,
/// device compute classes): the shared-server star baseline against static trees rooted at different workers.
/// Prints virtual times; asserts what both must share (rounds, participants, selections).
/// </summary>
[TestFixture]
[Category("Simulation")]
public sealed class FlStarVersusTreeTests
{
    private const int Workers = 30;

    [TestCase(10.0)]
    [TestCase(1.0)]
    public void Star_and_tree_run_two_apps_on_the_same_network_model(double serverBandwidthFactor)
    {
        var network = TopologyGenerator.Generate(3, Workers + 1, NetworkSettings.Default, ZoneAssignment.Geographic, new Random(21));
        var nodes = FlTestBed.Addresses(Workers + 1);
        var workers = nodes.Skip(1).ToImmutableArray();
        var apps = new[] { Spec("alpha"), Spec("beta") };

        var starNetwork = BaselineServer.Provision(network, server: 0, bandwidthFactor: serverBandwidthFactor, computeFactor: 4);
        var star = Run(starNetwork, new StarTopology(nodes[0], workers), apps, submitFrom: 0);
        var trees = StaticTreeTopology.Empty
            .WithTree("alpha", workers, BalancedParents(Workers, fanOut: 4, rootPosition: 0))
            .WithTree("beta", workers, BalancedParents(Workers, fanOut: 4, rootPosition: 15));
        var tree = Run(network, trees, apps, submitFrom: 1);

        for (var app = 0; app < apps.Length; app++)
        {
            Assert.That(tree[app].Reports.Select(r => r.Invited), Is.EqualTo(star[app].Reports.Select(r => r.Invited)), apps[app].Name);
            Assert.That(tree[app].Reports.Select(r => r.Participants), Has.All.EqualTo(apps[app].ClientsPerRound));
            Assert.That(star[app].Reports.Select(r => r.Participants), Has.All.EqualTo(apps[app].ClientsPerRound));
            TestContext.Out.WriteLine(
                $"server {serverBandwidthFactor}x bw, 4x cpu | {apps[app].Name}: star {star[app].Result.VirtualTime.TotalSeconds:F2} s "
                + $"(acc {star[app].Result.FinalAccuracy:F3}, {star[app].Reports.Sum(r => r.BytesUp + r.BytesDown) / 1e6:F1} MB), "
                + $"tree {tree[app].Result.VirtualTime.TotalSeconds:F2} s (acc {tree[app].Result.FinalAccuracy:F3}, "
                + $"{tree[app].Reports.Sum(r => r.BytesUp + r.BytesDown) / 1e6:F1} MB) for {star[app].Result.Rounds} rounds");
        }
    }

    private static AppSpec Spec(string name) => FlTestBed.App(name)
        .Model("mlp:256-256").Rounds(3).ClientsPerRound(10).OverSelection(1.0).LearningRate(0.05).Build();

    private static (AppResult Result, IReadOnlyList<RoundReport> Reports)[] Run(NetworkTopology network, IFlTopology topology, AppSpec[] apps, int submitFrom)
    {
        var index = FlTestBed.Addresses(network.Nodes.Length).Select((a, i) => KeyValuePair.Create(a, i)).ToImmutableDictionary();
        var links = new NetworkLinkModel(new NetworkModel(network, NetworkSettings.Default, seed: 5), index);
        var bed = FlTestBed.Create(network.Nodes.Length, seed: 13, topology, links, i => network.Nodes[i].FlopsPerSecond);
        var handles = apps.Select(spec => bed.Submit(submitFrom, spec)).ToArray();
        return [.. handles.Select(h => (bed.Run(h), FlTestBed.Reports(h)))];
    }

    private static int[] BalancedParents(int count, int fanOut, int rootPosition)
    {
        // Node order rotated so that the tree's root is node rootPosition; parents as in a balanced fanOut-ary tree.
        var order = Enumerable.Range(0, count).Select(i => (i + rootPosition) % count).ToArray();
        var parents = new int[count];
        for (var position = 0; position < count; position++)
        {
            parents[order[position]] = position == 0 ? -1 : order[(position - 1) / fanOut];
        }

        return parents;
    }
}
