using Totoro.Actors.Fl;
using Totoro.Actors.Sim;
using Address = Totoro.Kernel.Address;

namespace Totoro.Tests.Actors.Sim;

/// <summary><c>sim fl</c>'s load diagnostics: uplink accounting in the network model and node roles over several trees.</summary>
public class FlLoadTests
{
    private static readonly NetworkSettings Exact = NetworkSettings.Default with
    {
        BaseLatency = TimeSpan.FromMilliseconds(2), MaxJitter = TimeSpan.Zero, LossProbability = 0,
    };

    [Test]
    public void The_network_model_counts_each_uplinks_messages_busy_time_and_queueing()
    {
        var topology = new NetworkTopology(
            [new MapPoint(0, 0)],
            [new SimNode(0, 0, new MapPoint(0, 0), 8e6, 8e6, 1e9), new SimNode(1, 0, new MapPoint(0, 0), 8e6, 8e6, 1e9)]);
        var model = new NetworkModel(topology, Exact, seed: 1);

        model.Transmit(0, 1, 1000, TimeSpan.Zero);
        model.Transmit(0, 1, 1000, TimeSpan.Zero);
        model.Transmit(0, 1, 1000, TimeSpan.FromSeconds(1));

        // 1 ms per message on 8 Mbit/s; the second waited 1 ms behind the first, the third found the link idle.
        Assert.That(model.Uplink(0), Is.EqualTo(new UplinkUsage(3, TimeSpan.FromMilliseconds(3), TimeSpan.FromMilliseconds(1))));
        Assert.That(model.Uplink(1), Is.EqualTo(new UplinkUsage(0, TimeSpan.Zero, TimeSpan.Zero)));
    }

    [Test]
    public void Roles_are_counted_per_node_over_the_trees_and_the_busiest_uplinks_come_first()
    {
        var a = InProcessFlCluster.AddressesFor(6);
        // "x": 0 → 1 → {2, 3}, 0 → 4; "y": 1 → 0 → {2, 5}. Node 1 forwards in x and roots y; node 0 the reverse.
        var topology = ForestTopology.Empty
            .WithTree("x", a[0], [a[2], a[3], a[4]], new Dictionary<Address, Address> { [a[1]] = a[0], [a[2]] = a[1], [a[3]] = a[1], [a[4]] = a[0] })
            .WithTree("y", a[1], [a[2], a[5]], new Dictionary<Address, Address> { [a[0]] = a[1], [a[2]] = a[0], [a[5]] = a[0] });
        var busy = new[] { 5.0, 9.0, 1.0, 0, 0, 2.0 };

        var load = FlLoad.Measure(topology, ["x", "y"], a, n => new UplinkUsage(n, TimeSpan.FromSeconds(busy[n]), TimeSpan.FromSeconds(busy[n] / 2)));

        Assert.That(load.MaxInteriorTrees, Is.EqualTo(1));
        Assert.That(load.NodesInteriorInThreePlus, Is.Zero);
        Assert.That(load.RootsSharedWithOtherTrees, Is.EqualTo(2), "each root forwards in the other tree");
        Assert.That(load.MaxChildren, Is.EqualTo(4), "node 0: 2 children in x, 2 in y");
        Assert.That(load.BusiestUplinks.Select(n => n.Node), Is.EqualTo(new[] { 1, 0, 5, 2, 3, 4 }));
        Assert.That(load.BusiestUplinks[0], Is.EqualTo(new FlNodeLoad(1, RootOf: 1, InteriorIn: 1, WorkerIn: 0, Children: 3, Messages: 1, UplinkBusySeconds: 9, UplinkWaitedSeconds: 4.5)));
        Assert.That(load.BusiestUplinks[3], Is.EqualTo(new FlNodeLoad(2, 0, 0, 2, 0, 2, 1, 0.5)));

        // x: workers 2 and 3 two hops below the root, 4 one hop; y: 2 and 5 two hops.
        Assert.That(load.Depths, Is.EqualTo(new[] { new FlTreeDepth("x", 5.0 / 3, 2), new FlTreeDepth("y", 2, 2) }));
    }
}
