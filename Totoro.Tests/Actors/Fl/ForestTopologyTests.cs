using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Actors.Forest;
using Totoro.Actors.Sim;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

/// <summary>
/// <see cref="ForestTopology"/> built by <see cref="ForestDriver"/> from trees the forest protocol grew (ring joins,
/// Scribe subscriptions, fan-out cap with push-down): paths, routes and the cap.
/// </summary>
[TestFixture]
public sealed class ForestTopologyTests
{
    private const int Nodes = 80;
    private const int Cap = 4;

    private static readonly ForestApp[] Apps =
    [
        new("alpha", [.. Enumerable.Range(0, Nodes).Where(n => n % 2 == 0).Take(30)]),
        new("beta", [.. Enumerable.Range(0, Nodes).Where(n => n % 3 == 0).Take(25)]),
    ];

    private static readonly ImmutableArray<Address> Addresses = InProcessFlCluster.AddressesFor(Nodes);

    private static (ForestDriver Driver, ForestTopology Topology) Grow(int zones = 2)
    {
        var driver = new ForestDriver(Nodes, zones, seed: 17, ForestSettings.Default with { FanOutCap = Cap });
        driver.Build(TimeSpan.FromMilliseconds(50));
        return (driver, driver.GrowTrees(Apps, Addresses, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void Every_worker_is_reached_through_its_tree_path([Values(1, 2)] int zones)
    {
        var (driver, topology) = Grow(zones);
        foreach (var app in Apps)
        {
            var (root, parents) = driver.TreeOf(TopicId.For(app.Name));
            Assert.That(topology.Root(app.Name), Is.EqualTo(Addresses[root]));
            Assert.That(topology.Workers(app.Name), Is.EqualTo(app.Workers.Select(w => Addresses[w])));
            for (var worker = 0; worker < app.Workers.Length; worker++)
            {
                var path = topology.PathToRoot(app.Name, worker);
                Assert.That(path[0], Is.EqualTo(Addresses[app.Workers[worker]]));
                Assert.That(path[^1], Is.EqualTo(topology.Root(app.Name)));
                for (var hop = 0; hop + 1 < path.Length; hop++)
                {
                    // Each hop is the forest's own parent pointer, and the route down from the parent takes this hop.
                    var node = driver.Topology.Nodes[Addresses.IndexOf(path[hop])].Index;
                    Assert.That(Addresses[parents[node]], Is.EqualTo(path[hop + 1]));
                    Assert.That(topology.Parent(app.Name, path[hop]), Is.EqualTo(path[hop + 1]));
                    var routes = topology.RouteToChildren(app.Name, path[hop + 1], [worker]);
                    Assert.That(routes.Keys, Is.EqualTo(new[] { path[hop] }));
                }
            }

            Assert.That(topology.Parent(app.Name, topology.Root(app.Name)), Is.Null);
        }
    }

    [Test]
    public void A_round_start_sent_down_the_routes_reaches_each_invited_worker_exactly_once()
    {
        var (_, topology) = Grow();
        var invited = ImmutableArray.Create(0, 3, 7, 11, 19, 24);
        var reached = new List<int>();
        var frontier = new Queue<(Address Node, ImmutableArray<int> Workers)>([(topology.Root("alpha"), invited)]);
        while (frontier.TryDequeue(out var step))
        {
            var own = topology.Workers("alpha").IndexOf(step.Node);
            if (own >= 0 && step.Workers.Contains(own))
            {
                reached.Add(own);
            }

            foreach (var (child, workers) in topology.RouteToChildren("alpha", step.Node, step.Workers))
            {
                Assert.That(topology.Parent("alpha", child), Is.EqualTo(step.Node));
                frontier.Enqueue((child, workers));
            }
        }

        Assert.That(reached, Is.EquivalentTo(invited));
    }

    [Test]
    public void No_node_keeps_more_children_than_the_fan_out_cap_and_full_nodes_push_down()
    {
        var (driver, topology) = Grow();
        foreach (var app in Apps)
        {
            Assert.That(driver.MaxChildren(TopicId.For(app.Name)), Is.LessThanOrEqualTo(Cap));
            Assert.That(topology.Members(app.Name).Select(m => topology.Children(app.Name, m).Length), Has.All.LessThanOrEqualTo(Cap));

            // 25–30 subscribers under a cap of 4 cannot all hang off the root: the tree has interior levels.
            var depths = Enumerable.Range(0, app.Workers.Length).Select(w => topology.PathToRoot(app.Name, w).Length - 1).ToArray();
            Assert.That(depths.Max(), Is.GreaterThanOrEqualTo(2), app.Name);
        }
    }

    [Test]
    public void A_tree_whose_parents_do_not_reach_the_root_is_refused()
    {
        Address a = Addresses[0], b = Addresses[1], c = Addresses[2], root = Addresses[3];
        Assert.That(
            () => ForestTopology.Empty.WithTree("x", root, [a], new Dictionary<Address, Address> { [a] = b, [b] = a }),
            Throws.ArgumentException.With.Message.Contains("loop"));
        Assert.That(
            () => ForestTopology.Empty.WithTree("x", root, [a, c], new Dictionary<Address, Address> { [a] = root }),
            Throws.ArgumentException.With.Message.Contains("no parent"));
        Assert.That(() => ForestTopology.Empty.Root("missing"), Throws.TypeOf<KeyNotFoundException>());
    }
}
