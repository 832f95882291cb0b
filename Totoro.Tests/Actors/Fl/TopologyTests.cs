using Totoro.Actors.Fl;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class TopologyTests
{
    [Test]
    public void Static_tree_routes_each_worker_through_the_child_on_its_path()
    {
        var nodes = FlTestBed.Addresses(7);
        // 0 ─┬─ 1 ─┬─ 3
        //    │     └─ 4
        //    └─ 2 ─┬─ 5
        //          └─ 6
        var tree = StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 2);

        var routes = tree.RouteToChildren("app", nodes[0], [0, 3, 4, 6]);

        Assert.That(tree.Root("app"), Is.EqualTo(nodes[0]));
        Assert.That(tree.Parent("app", nodes[5]), Is.EqualTo(nodes[2]));
        Assert.That(tree.Parent("app", nodes[0]), Is.Null);
        Assert.That(routes.Keys, Is.EquivalentTo(new[] { nodes[1], nodes[2] }));
        Assert.That(routes[nodes[1]], Is.EqualTo(new[] { 3, 4 }));
        Assert.That(routes[nodes[2]], Is.EqualTo(new[] { 6 }));
        Assert.That(tree.RouteToChildren("app", nodes[1], [3, 4, 6]).Keys, Is.EquivalentTo(new[] { nodes[3], nodes[4] }));
        Assert.That(tree.RouteToChildren("app", nodes[3], [3]), Is.Empty);
    }

    [Test]
    public void Static_tree_refuses_cycles_and_forests()
    {
        var nodes = FlTestBed.Addresses(3);
        Assert.Throws<ArgumentException>(() => StaticTreeTopology.Empty.WithTree("a", nodes, [-1, 2, 1]));
        Assert.Throws<ArgumentException>(() => StaticTreeTopology.Empty.WithTree("a", nodes, [-1, -1, 0]));
    }

    [Test]
    public void Star_makes_the_server_every_apps_root_and_every_workers_parent()
    {
        var nodes = FlTestBed.Addresses(5);
        var star = new StarTopology(nodes[0], nodes.Skip(1));

        Assert.That(star.Root("x"), Is.EqualTo(nodes[0]));
        Assert.That(star.Root("y"), Is.EqualTo(nodes[0]));
        Assert.That(star.Workers("x"), Is.EqualTo(nodes.Skip(1)));
        Assert.That(star.Parent("x", nodes[3]), Is.EqualTo(nodes[0]));
        Assert.That(star.RouteToChildren("x", nodes[0], [0, 2]).Keys, Is.EquivalentTo(new[] { nodes[1], nodes[3] }));
    }
}
