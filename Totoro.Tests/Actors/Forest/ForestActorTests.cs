using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// The forest's actor shell on the in-memory transport, every message serialized, virtual time: ring actors and
/// forest actors per node, trees built through the ring's upcalls, repair from the ring's events.
/// </summary>
[TestFixture]
internal sealed class ForestActorTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    [TestCase(11)]
    [TestCase(12)]
    public void Fold_at_the_root_equals_the_flat_combination_and_every_member_gets_each_publish_exactly_once(int seed)
    {
        var cluster = ForestCluster.Build(60, seed);
        var topic = TopicId.For("fold-" + seed);
        var members = cluster.Live.ToList();
        cluster.Create(members[5], topic);
        members.ForEach(node => cluster.Subscribe(node, topic));
        cluster.Advance(TimeSpan.FromSeconds(10));
        var root = cluster.Ring.ClosestLive(topic.Key);
        Assert.That(cluster.Roots(topic), Is.EqualTo(new[] { root }), $"seed {seed}: the closest node is the one root");

        for (var round = 1; round <= 2; round++)
        {
            cluster.Publish(root, topic, round, round, Budget);
            cluster.Advance(TimeSpan.FromSeconds(30));
        }

        foreach (var node in members)
        {
            var got = cluster.Recorder.Deliveries.Where(d => d.Node == node && d.Topic == topic).ToList();
            Assert.That(got.Select(d => d.MessageId), Is.EqualTo(new long[] { 1, 2 }), $"seed {seed}: node {node} gets each publish once");
            Assert.That(got.Select(d => d.BlobBytes), Is.All.EqualTo(3), "the blob travels with the multicast");
        }

        var folds = cluster.Recorder.Folds(topic).DistinctBy(f => f.Round).ToList();
        Assert.That(folds.Select(f => f.Round), Is.EqualTo(new long[] { 1, 2 }));
        foreach (var fold in folds)
        {
            var expected = members.Select(node => cluster.Ring.Ids[node]).Order().ToList();
            Assert.That(fold.Contributors, Is.EqualTo(expected), "every member contributed exactly once");
            Assert.That(fold.ByDeadline, Is.False, "the round closed when complete, not at its deadline");
            var flat = VectorSum.Flat(expected.Select(id => VectorSum.For(id, topic, fold.Round)));
            Assert.That((double[])fold.Value, Is.EqualTo(flat).Within(1e-6));
        }
    }

    [Test]
    public void No_message_of_one_topic_reaches_a_node_outside_its_tree()
    {
        var cluster = ForestCluster.Build(60, 21);
        var topics = Enumerable.Range(0, 3).Select(i => TopicId.For("isolated-" + i)).ToArray();
        var membersOf = topics.Select((topic, i) => cluster.Live.Where(node => node % 3 == i).Take(12).ToList()).ToArray();
        for (var i = 0; i < topics.Length; i++)
        {
            cluster.Create(membersOf[i][0], topics[i]);
            membersOf[i].ForEach(node => cluster.Subscribe(node, topics[i]));
        }

        cluster.Advance(TimeSpan.FromSeconds(10));

        // By now the trees have settled (relays that bypassed to their parent left 5 s after their child came), so the
        // final trees describe who may talk from here on.
        var settled = cluster.Wire.Count;
        for (var i = 0; i < topics.Length; i++)
        {
            cluster.Publish(cluster.Ring.ClosestLive(topics[i].Key), topics[i], 1, 1, Budget);
        }

        cluster.Advance(TimeSpan.FromSeconds(30));
        var treeOf = topics.ToDictionary(topic => topic, topic => cluster.WalkToRoot(topic).Keys.ToHashSet());
        for (var i = 0; i < topics.Length; i++)
        {
            var topic = topics[i];
            Assert.That(cluster.Recorder.Deliveries.Where(d => d.Topic == topic).Select(d => d.Node).Order(), Is.EqualTo(membersOf[i].Order()), $"{topic}: only its members");
            var fold = cluster.Recorder.Folds(topic).Single(f => f.Round == 1);
            Assert.That(fold.Contributors, Is.EqualTo(membersOf[i].Select(node => cluster.Ring.Ids[node]).Order()), $"{topic}: only its members' parts");
            var strays = cluster.Wire.Skip(settled).Where(w => w.Message.Topic == topic && w.Message is Multicast or FoldPartial or TreeHeartbeat)
                .Where(w => !treeOf[topic].Contains(w.From) || !treeOf[topic].Contains(w.To)).ToList();
            Assert.That(strays, Is.Empty, $"{topic}: tree messages travel only between its tree's nodes");
        }

        Assert.That(cluster.Wire.Count(w => w.Message is Multicast), Is.GreaterThan(0), "the check saw the multicasts");
    }

    [Test]
    public void The_fan_out_cap_holds_and_publish_still_reaches_every_member_once()
    {
        var cluster = ForestCluster.Build(60, 31, ForestSettings.Default with { FanOutCap = 4 });
        var topic = TopicId.For("capped");
        var members = cluster.Live.ToList();
        cluster.Create(members[0], topic);
        members.ForEach(node => cluster.Subscribe(node, topic));
        cluster.Advance(TimeSpan.FromSeconds(15));

        var depths = cluster.WalkToRoot(topic);
        Assert.That(depths.Keys, Is.SupersetOf(members), "every member is attached, no loop");
        Assert.That(members.Max(node => cluster.StateOf(node).Trees[topic].Children.Length), Is.LessThanOrEqualTo(4));
        Assert.That(depths.Values.Max(), Is.GreaterThanOrEqualTo(3), "60 members under a cap of 4 need at least three levels");
        cluster.Publish(cluster.Ring.ClosestLive(topic.Key), topic, 1, 1, Budget);
        cluster.Advance(TimeSpan.FromSeconds(30));
        Assert.That(cluster.Recorder.Deliveries.Where(d => d.Topic == topic).Select(d => d.Node).Order(), Is.EqualTo(members.Order()));
        Assert.That(cluster.Recorder.Folds(topic).Single(f => f.Round == 1).Contributors, Has.Length.EqualTo(members.Count));
    }

    [Test]
    public void A_forwarder_crash_mid_round_closes_the_round_and_its_subtree_reattaches_for_the_next()
    {
        var cluster = ForestCluster.Build(60, 41, ForestSettings.Default with { FanOutCap = 4 });
        var topic = TopicId.For("repair");
        var members = cluster.Live.ToList();
        cluster.Create(members[0], topic);
        members.ForEach(node => cluster.Subscribe(node, topic));
        cluster.Advance(TimeSpan.FromSeconds(15));
        var root = cluster.Ring.ClosestLive(topic.Key);
        var forwarder = members.Where(node => node != root).MaxBy(node => cluster.StateOf(node).Trees[topic].SubtreeSize);
        var orphans = cluster.StateOf(forwarder).Trees[topic].SubtreeSize - 1;
        Assert.That(orphans, Is.GreaterThan(0), "the crashed node forwards for others");

        cluster.Publish(root, topic, 1, 1, Budget);
        Assert.That(cluster.Ring.Scenario.RunUntil(() => cluster.Wire.Any(w => w.From == forwarder && w.Message is Multicast), TimeSpan.FromSeconds(5)), Is.True);
        cluster.Crash(forwarder);
        cluster.Advance(TimeSpan.FromSeconds(30));
        var first = cluster.Recorder.Folds(topic).First(f => f.Round == 1);
        Assert.That(first.Contributors, Does.Not.Contain(cluster.Ring.Ids[forwarder]), "round 1 closes without the crashed forwarder");

        cluster.Publish(root, topic, 2, 2, Budget);
        cluster.Advance(TimeSpan.FromSeconds(30));
        var survivors = members.Where(node => node != forwarder).ToList();
        Assert.That(cluster.WalkToRoot(topic).Keys, Is.SupersetOf(survivors), "the orphaned subtree re-attached");
        var second = cluster.Recorder.Folds(topic).First(f => f.Round == 2);
        Assert.That(second.Contributors, Is.EqualTo(survivors.Select(node => cluster.Ring.Ids[node]).Order()), "round 2 completes with every survivor");
        Assert.That(second.ByDeadline, Is.False);
    }

    [Test]
    public void A_closer_node_that_joins_takes_over_as_the_one_root()
    {
        const int nodes = 60;
        var cluster = ForestCluster.Build(nodes, 51, start: nodes - 1);
        var newcomer = nodes - 1;
        var topic = new TopicId(cluster.Ring.Ids[newcomer]);
        var early = cluster.Live.Where(node => node % 2 == 0).ToList();
        cluster.Create(early[0], topic);
        early.ForEach(node => cluster.Subscribe(node, topic));
        cluster.Advance(TimeSpan.FromSeconds(10));
        var oldRoot = cluster.Ring.ClosestLive(topic.Key);
        Assert.That(cluster.Roots(topic), Is.EqualTo(new[] { oldRoot }));

        cluster.Join(newcomer);
        cluster.Advance(TimeSpan.FromSeconds(10));
        var late = cluster.Live.Where(node => node % 2 == 1 && node != newcomer).ToList();
        late.ForEach(node => cluster.Subscribe(node, topic));
        cluster.Advance(TimeSpan.FromSeconds(15));

        Assert.That(cluster.Roots(topic), Is.EqualTo(new[] { newcomer }), "exactly one root: the closest node");
        Assert.That(cluster.Recorder.Reports.Select(r => r.Report).OfType<RootHandedOver>().Select(r => r.Successor.Id), Has.Member(cluster.Ring.Ids[newcomer]));
        var members = early.Concat(late).ToList();
        Assert.That(cluster.WalkToRoot(topic).Keys, Is.SupersetOf(members), "every member hangs below the one root");
        cluster.Publish(newcomer, topic, 1, 1, Budget);
        cluster.Advance(TimeSpan.FromSeconds(30));
        Assert.That(cluster.Recorder.Deliveries.Where(d => d.Topic == topic).Select(d => d.Node).Order(), Is.EqualTo(members.Order()));
        Assert.That(cluster.Recorder.Folds(topic).Single(f => f.Round == 1).Contributors, Has.Length.EqualTo(members.Count));
    }
}

/// <summary>The rest of the forest actor's API: refusals, listeners, abstaining, leaving and destroying.</summary>
[TestFixture]
internal sealed class ForestActorApiTests
{
    [Test]
    public void Listen_refuse_abstain_leave_and_destroy_do_what_they_say()
    {
        var cluster = ForestCluster.Build(30, 61);
        var topic = TopicId.For("api");
        var root = cluster.Ring.ClosestLive(topic.Key);
        var members = cluster.Live.Where(node => node != root).ToList();
        var (abstainer, leaver) = (members[0], members[1]);
        var abstaining = cluster.Ring.Scenario.CreateProbe(abstainer, "abstaining");
        var leaving = cluster.Ring.Scenario.CreateProbe(leaver, "leaving");
        cluster.Create(root, topic);
        members.Skip(2).ToList().ForEach(node => cluster.Subscribe(node, topic));
        cluster.Forest(abstainer).Tell(new JoinTopic(topic, 0, abstaining.Ref));
        cluster.Forest(leaver).Tell(new JoinTopic(topic, 0, leaving.Ref));
        var listener = cluster.Ring.Scenario.CreateProbe(root, "listener");
        cluster.Forest(root).Tell(new ListenToTopic(topic, listener.Ref));
        cluster.Advance(TimeSpan.FromSeconds(10));

        var publisher = cluster.Ring.Scenario.CreateProbe(members[2], "publisher");
        publisher.Send(cluster.Forest(members[2]), new PublishToTopic(topic, 1, "model", default, null));
        cluster.Advance(TimeSpan.FromSeconds(1));
        Assert.That(publisher.ExpectMsg<PublishRefused>().Topic, Is.EqualTo(topic), "only the root publishes");

        cluster.Forest(leaver).Tell(new LeaveTopic(topic, leaving.Ref));
        cluster.Advance(TimeSpan.FromSeconds(5));
        Assert.That(cluster.StateOf(leaver).Trees.GetValueOrDefault(topic) is null or { IsSubscriber: false }, "the leaver is no member any more");

        cluster.Publish(root, topic, 1, 1, TimeSpan.FromSeconds(20));
        cluster.Ring.Scenario.RunUntil(() => abstaining.PendingCount > 0, TimeSpan.FromSeconds(10));
        var delivery = abstaining.FishForMessage<ForestDelivery>(_ => true);
        cluster.Forest(abstainer).Tell(new AbstainFromRound(topic, delivery.Fold!.Round));
        cluster.Advance(TimeSpan.FromSeconds(30));
        var fold = (FoldCompleted)listener.FishForMessage<ForestNotification>(n => n.Report is FoldCompleted).Report;
        var contributors = members.Skip(2).Select(node => cluster.Ring.Ids[node]).Order();
        Assert.That(fold.Contributors, Is.EqualTo(contributors), "neither the abstainer nor the leaver contributed");
        Assert.That(fold.ByDeadline, Is.False, "the round did not wait for either of them");
        Assert.That(cluster.Recorder.Deliveries.Any(d => d.Node == leaver), Is.False);

        cluster.Forest(root).Tell(new DestroyForestTopic(topic));
        cluster.Advance(TimeSpan.FromSeconds(5));
        Assert.That(cluster.Live.Where(node => cluster.StateOf(node).Trees.ContainsKey(topic)), Is.Empty, "every node dropped the destroyed topic");
    }
}
