using Totoro.Actors.Ring;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Actors.Ring;

/// <summary>
/// The actor shell over the kernel's in-memory transport, every message serialized across node boundaries, links
/// timed by the network model on virtual time.
/// </summary>
[TestFixture]
internal sealed class RingMembershipActorTests
{
    [TestCase(1)]
    [TestCase(2)]
    public void Every_key_routes_to_its_closest_live_node_after_convergence_with_every_message_serialized(int seed)
    {
        var cluster = RingCluster.Create(120, seed);
        cluster.BuildByJoining(120, TimeSpan.FromMilliseconds(100));
        cluster.Scenario.Advance(TimeSpan.FromSeconds(15));

        Assert.That(cluster.NodesWithWrongLeafSets(), Is.Empty, $"seed {seed}: leaf sets are the true nearest neighbours");
        var sent = cluster.RouteRandomKeys(500);
        Assert.That(sent.Count(s => cluster.Deliveries.ContainsKey(s.Lookup)), Is.EqualTo(sent.Count), $"seed {seed}: every lookup delivered");
        Assert.That(sent.Where(s => cluster.Deliveries[s.Lookup].Node != cluster.ClosestLive(s.Key)), Is.Empty, $"seed {seed}: misroutes");
        Assert.That(sent.Max(s => cluster.Deliveries[s.Lookup].Hops), Is.LessThanOrEqualTo(4));
        Assert.That(cluster.CrossedAsBytes, Is.SupersetOf(new[]
        {
            typeof(AckedHop), typeof(HopAck), typeof(RingEnvelope), typeof(RouteMessage), typeof(JoinReply), typeof(Announce),
            typeof(AnnounceReply), typeof(Probe), typeof(ProbeReply), typeof(LeafSetRequest), typeof(LeafSetReply),
        }), "every ring message of join, routing and maintenance crossed a node boundary as bytes");
    }

    [Test]
    public void Forward_upcalls_name_exactly_the_intermediate_hops()
    {
        var cluster = RingCluster.Create(80, 3);
        cluster.BuildByJoining(80, TimeSpan.FromMilliseconds(100));
        cluster.Scenario.Advance(TimeSpan.FromSeconds(10));
        var sent = cluster.RouteRandomKeys(200);

        foreach (var (lookup, _) in sent)
        {
            var path = cluster.Paths.GetValueOrDefault(lookup) ?? [];
            Assert.That(path, Has.Count.EqualTo(Math.Max(0, cluster.Deliveries[lookup].Hops - 1)), $"lookup {lookup}");
        }
    }

    [Test]
    public void Nodes_that_leave_gracefully_vanish_from_leaf_sets_and_routing_stays_exact()
    {
        var cluster = RingCluster.Create(80, 4);
        cluster.BuildByJoining(80, TimeSpan.FromMilliseconds(100));
        cluster.Scenario.Advance(TimeSpan.FromSeconds(10));
        var watcher = cluster.Scenario.CreateProbe(1, "watcher");
        cluster.ActorOf(1).Tell(new SubscribeRingEvents(watcher.Ref));
        var leavers = Enumerable.Range(40, 12).ToList();
        var neighbourOfNode1 = cluster.StateOf(1).Leaves.NearestClockwise!.Value.Address.Value;
        if (neighbourOfNode1 > 1)
        {
            leavers.Add(neighbourOfNode1);
        }

        foreach (var node in leavers.Distinct())
        {
            cluster.Leave(node);
        }

        cluster.Scenario.Advance(TimeSpan.FromSeconds(20));

        Assert.That(cluster.NodesWithWrongLeafSets(), Is.Empty);
        Assert.That(cluster.CrossedAsBytes, Does.Contain(typeof(LeaveNotice)));
        var failed = watcher.FishForMessage<RingPeerFailed>(f => f.Peer.Address.Value == neighbourOfNode1 || neighbourOfNode1 <= 1);
        Assert.That(failed.Observer.Address.Value, Is.EqualTo(1), "node 1 told its subscriber about its departed neighbour");
        var sent = cluster.RouteRandomKeys(300);
        Assert.That(sent.Where(s => !cluster.Deliveries.TryGetValue(s.Lookup, out var d) || d.Node != cluster.ClosestLive(s.Key)), Is.Empty);
    }

    [Test]
    public void Late_joiners_join_through_any_node_and_are_found()
    {
        var cluster = RingCluster.Create(70, 5);
        cluster.BuildByJoining(60, TimeSpan.FromMilliseconds(100));
        cluster.Scenario.Advance(TimeSpan.FromSeconds(10));
        for (var node = 60; node < 70; node++)
        {
            cluster.Start(node, bootstrap: node - 60);
        }

        cluster.Scenario.Advance(TimeSpan.FromSeconds(15));

        Assert.That(cluster.NodesWithWrongLeafSets(), Is.Empty);
        var live = cluster.Live.ToList();
        var sent = Enumerable.Range(60, 10).Select(node => (Lookup: cluster.Route(live[node % 7], cluster.Ids[node]), Node: node)).ToList();
        cluster.Scenario.Advance(TimeSpan.FromSeconds(5));
        Assert.That(sent.Select(s => cluster.Deliveries[s.Lookup].Node), Is.EqualTo(sent.Select(s => s.Node)), "a joiner's own id routes to it");
    }

    [Test]
    public void After_a_partition_heals_leaf_sets_become_exact_again_and_routing_is_exact()
    {
        var cluster = RingCluster.Create(60, 6);
        cluster.BuildByJoining(60, TimeSpan.FromMilliseconds(100));
        cluster.Scenario.Advance(TimeSpan.FromSeconds(10));
        var sideA = Enumerable.Range(0, 30).ToList();
        var sideB = Enumerable.Range(30, 30).ToList();

        cluster.Scenario.Partition(sideA, sideB);
        cluster.Scenario.Advance(TimeSpan.FromSeconds(30));
        var splitLeafSet = cluster.StateOf(0).Leaves.Members().Select(m => m.Address.Value);
        Assert.That(splitLeafSet, Is.All.LessThan(30), "during the partition node 0's leaf set holds only its own side");

        cluster.Scenario.Heal();
        cluster.Scenario.Advance(RingSettings.Default.TombstoneTtl + TimeSpan.FromSeconds(60));

        Assert.That(cluster.NodesWithWrongLeafSets(), Is.Empty, "leaf sets merged again");
        var sent = cluster.RouteRandomKeys(300);
        Assert.That(sent.Where(s => !cluster.Deliveries.TryGetValue(s.Lookup, out var d) || d.Node != cluster.ClosestLive(s.Key)), Is.Empty);
    }
}
