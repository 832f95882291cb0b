using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Tests.Node;

/// <summary>The tree the FL module derives from a ring-membership snapshot (until the forest replaces it).</summary>
public sealed class FlRingTopologyTests
{
    private static ImmutableArray<RingMember> Members(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
            new RingMember(new NodeId(new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64())), new Address("totoro", "127.0.0.1", 5000 + i)))];
    }

    [TestCase(1, 3)]
    [TestCase(7, 2)]
    [TestCase(40, 4)]
    public void The_root_is_the_member_closest_to_the_apps_key(int count, int seed)
    {
        var members = Members(count, seed);
        var topology = new RingMemberTopology(members, fanOut: 3);
        foreach (var app in new[] { "a", "fmnist", "app-17", "zeta" })
        {
            var key = RingMemberTopology.KeyOf(app);
            var closest = members.Aggregate((best, m) => m.Id.IsCloserTo(key, best.Id) ? m : best);
            Assert.That(topology.Root(app), Is.EqualTo(closest.Node), $"app {app}, seed {seed}");
            Assert.That(topology.Workers(app)[0], Is.EqualTo(closest.Node));
            Assert.That(topology.Parent(app, closest.Node), Is.Null);
        }
    }

    [TestCase(1, 5)]
    [TestCase(2, 6)]
    [TestCase(3, 7)]
    [TestCase(8, 8)]
    public void Routes_from_the_root_reach_every_worker_once_through_the_child_above_it(int fanOut, int seed)
    {
        var members = Members(23, seed);
        var topology = new RingMemberTopology(members, fanOut);
        const string app = "tree";
        var workers = topology.Workers(app);
        var all = Enumerable.Range(0, workers.Length).ToImmutableArray();
        var reached = new List<int>();

        void Visit(Address node, ImmutableArray<int> below)
        {
            var routes = topology.RouteToChildren(app, node, below);
            Assert.That(routes.Count, Is.LessThanOrEqualTo(fanOut));
            foreach (var (child, under) in routes)
            {
                Assert.That(topology.Parent(app, child), Is.EqualTo(node), "a route goes to a child of the node");
                reached.Add(workers.IndexOf(child));
                Visit(child, under);
            }
        }

        Visit(topology.Root(app), all);

        Assert.That(reached, Is.EquivalentTo(all.Skip(1)), "every worker but the root, once");
    }

    [Test]
    public void Workers_outside_a_subtree_and_unknown_indices_are_left_out()
    {
        var topology = new RingMemberTopology(Members(7, 9), fanOut: 2);
        var workers = topology.Workers("x");
        var routes = topology.RouteToChildren("x", workers[1], [0, 2, 3, 4, 5, 6, 99]);
        Assert.That(routes.Keys, Is.EquivalentTo(new[] { workers[3], workers[4] }));
        Assert.That(routes.Values.SelectMany(w => w), Is.EquivalentTo(new[] { 3, 4 }));
        Assert.That(topology.RouteToChildren("x", new Address("totoro", "10.9.9.9", 1), [1, 2]), Is.Empty);
        Assert.That(topology.Parent("x", new Address("totoro", "10.9.9.9", 1)), Is.Null);
    }

    [Test]
    public void Successors_are_the_next_closest_members_and_snapshots_compare_by_members()
    {
        var members = Members(6, 10);
        var topology = new RingMemberTopology(members, fanOut: 2);
        Assert.That(topology.Successors("s", 2), Is.EqualTo(topology.Workers("s").Skip(1).Take(2)));
        Assert.That(new RingMemberTopology(members.Reverse(), 2).SameAs(topology), Is.True);
        Assert.That(new RingMemberTopology(members.Skip(1), 2).SameAs(topology), Is.False);
        Assert.That(new RingMemberTopology(members, 3).SameAs(topology), Is.False);
    }
}
