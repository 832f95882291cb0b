using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

/// <summary>
/// What keeps join paths from converging on the few nodes that filled the shallow rows while the ring was small
/// (sim ring at 10⁶: their uplinks queued join replies and 8 % of the joins never finished): unmeasured slot
/// candidates are ranked per owner, a newcomer announces itself to its bootstrap and the bootstrap's neighbourhood,
/// and a slow join is retried with backoff instead of being restarted into the same queues.
/// </summary>
public class RingJoinSpreadTests
{
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(5);
    private static readonly NodeHandle Self = new(NodeId.Parse("80000000000000000000000000000000"), new NodeAddress(0));

    [Test]
    public void Unmeasured_candidates_for_one_slot_are_ranked_per_owner_and_independently_of_arrival_order()
    {
        // Two unmeasured candidates for slot (0, 3); with the raw id as tie-break every owner kept the lower id.
        var low = PeerEntry.Unmeasured(NodeId.Parse("30000000000000000000000000000001"), new NodeAddress(1));
        var high = PeerEntry.Unmeasured(NodeId.Parse("3fffffffffffffffffffffffffffffff"), new NodeAddress(2));
        var random = new Random(7);
        var kept = new List<NodeId>();
        for (var owner = 0; owner < 64; owner++)
        {
            var id = new NodeId(((UInt128)0x8 << 124) | ((UInt128)(ulong)random.NextInt64() << 32) | (uint)owner);
            var lowFirst = RoutingTable.Empty(id, IdGeometry.Default, 1).Insert(low).Insert(high);
            var highFirst = RoutingTable.Empty(id, IdGeometry.Default, 1).Insert(high).Insert(low);
            var batch = RoutingTable.Empty(id, IdGeometry.Default, 1).InsertMany([high, low]);
            Assert.That(lowFirst.Slot(0, 3).ToArray().Select(e => e.Id), Is.EqualTo(highFirst.Slot(0, 3).ToArray().Select(e => e.Id)), "order does not matter");
            Assert.That(batch.Slot(0, 3).ToArray().Select(e => e.Id), Is.EqualTo(lowFirst.Slot(0, 3).ToArray().Select(e => e.Id)), "batch = one by one");
            kept.Add(lowFirst.Slot(0, 3)[0].Id);
        }

        Assert.That(kept.Count(id => id == low.Id), Is.InRange(16, 48), "owners split between the two candidates");
    }

    [Test]
    public void A_measured_candidate_still_beats_every_unmeasured_one()
    {
        var unmeasured = PeerEntry.Unmeasured(NodeId.Parse("30000000000000000000000000000001"), new NodeAddress(1));
        var measured = PeerEntry.Measured(NodeId.Parse("3fffffffffffffffffffffffffffffff"), new NodeAddress(2), TimeSpan.FromMilliseconds(300));
        for (var owner = 0; owner < 16; owner++)
        {
            var table = RoutingTable.Empty(new NodeId(((UInt128)0x8 << 124) | (uint)(owner * 7919)), IdGeometry.Default, 1).Insert(unmeasured).Insert(measured);
            Assert.That(table.Slot(0, 3)[0].Id, Is.EqualTo(measured.Id));
        }
    }

    [Test]
    public void Joined_node_announces_itself_to_its_bootstrap_and_the_bootstraps_neighbourhood()
    {
        // The bootstrap (hop 0) is far from the joiner in id space and hands over two neighbours with other prefixes;
        // the final node (hop 1) hands over a full leaf set of closer nodes, so none of the three is a leaf.
        var bootstrap = new NodeHandle(NodeId.Parse("30000000000000000000000000000000"), new NodeAddress(2));
        var neighbours = new[]
        {
            new NodeHandle(NodeId.Parse("10000000000000000000000000000000"), new NodeAddress(5)),
            new NodeHandle(NodeId.Parse("c0000000000000000000000000000000"), new NodeAddress(6)),
        };
        var final = new NodeHandle(NodeId.Parse("80000000000000000000000000000100"), new NodeAddress(1));
        var leaves = new[] { final, new NodeHandle(NodeId.Parse("7fffffffffffffffffffffffffffff00"), new NodeAddress(9)) };
        var settings = RingSettings.Default with { LeafSetSize = 2 };
        var application = new NullApplication();
        var joining = RingNodeState.CreateJoining(Self, bootstrap.Address, settings, LowestRttPlanner.Instance).State;
        var first = joining.Handle(new JoinReply(bootstrap, 0, 0, [bootstrap], [.. neighbours], [], null), Now, application);
        var done = first.State.Handle(new JoinReply(final, 0, 1, [final], [], [.. leaves], 2), Now, application);
        Assert.That(done.State.Phase, Is.EqualTo(RingPhase.Ready));
        Assert.That(done.State.Leaves.Contains(bootstrap.Id), Is.False);
        var announced = done.Effects.OfType<Send>().Where(s => s.Message is Announce).Select(s => s.To).ToArray();
        Assert.That(announced, Does.Contain(bootstrap.Address).And.Contain(neighbours[0].Address).And.Contain(neighbours[1].Address));
        Assert.That(announced, Is.Unique);
    }

    [Test]
    public void A_join_that_is_not_answered_is_retried_with_exponential_backoff()
    {
        var settings = RingSettings.Default with { JoinRetryInterval = TimeSpan.FromSeconds(10) };
        var step = RingNodeState.CreateJoining(Self, new NodeAddress(2), settings, LowestRttPlanner.Instance);
        var delays = new List<TimeSpan> { step.Effects.OfType<ScheduleTimer>().Single().Delay };
        for (var retry = 0; retry < 6; retry++)
        {
            step = step.State.Handle(JoinRetryTick.Instance, Now, new NullApplication());
            Assert.That(step.Effects.OfType<Send>().Single().Message, Is.TypeOf<RouteMessage>(), "each retry routes a new join");
            delays.Add(step.Effects.OfType<ScheduleTimer>().Single().Delay);
        }

        Assert.That(delays.Select(d => d.TotalSeconds), Is.EqualTo(new double[] { 10, 20, 40, 80, 160, 160, 160 }));
    }

    private sealed class NullApplication : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop) => ForwardVerdict.Continue;

        public void Deliver(RouteContext context)
        {
        }
    }
}
