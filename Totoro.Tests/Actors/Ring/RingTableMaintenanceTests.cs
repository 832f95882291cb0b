using Totoro.Actors.Ring;
using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Ring;

/// <summary>Routing-table maintenance (row exchange): handler level, and on a ring built by joining.</summary>
public class RingTableMaintenanceTests
{
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(5);
    private static readonly NodeHandle Self = new(NodeId.Parse("80000000000000000000000000000000"), new NodeAddress(0));
    private static readonly NodeHandle RowZeroPeer = new(NodeId.Parse("31000000000000000000000000000000"), new NodeAddress(1));
    private static readonly NodeHandle Missing = new(NodeId.Parse("52000000000000000000000000000000"), new NodeAddress(2));

    private sealed class Ignore : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop) => ForwardVerdict.Continue;

        public void Deliver(RouteContext context)
        {
        }
    }

    private static RingNodeState Knowing(RingSettings settings, NodeHandle self, params NodeHandle[] peers)
    {
        var state = RingNodeState.CreateFirst(self, settings, LowestRttPlanner.Instance).State;
        return peers.Aggregate(state, (current, peer) => current.Handle(new Announce(peer, Now), Now, new Ignore()).State);
    }

    [Test]
    public void Maintenance_asks_a_row_entry_for_its_row_and_the_reply_fills_the_hole()
    {
        var state = Knowing(RingSettings.Default, Self, RowZeroPeer);
        Assert.That(state.Table.Slot(0, 5).Length, Is.Zero, "precondition: slot (0, 5) is a hole");

        var tick = state.Handle(TableMaintenanceTick.Instance, Now, new Ignore());
        Assert.That(tick.Effects.OfType<Send>().Select(send => (send.To, send.Message)), Is.EqualTo(new[] { (RowZeroPeer.Address, (RingMessage)new RowRequest(Self, 0)) }));
        Assert.That(tick.Effects, Does.Contain(new ScheduleTimer(TableMaintenanceTick.Instance, RingSettings.Default.TableMaintenanceInterval)));

        // The peer answers with its row 0, which holds the node we lacked.
        var peer = Knowing(RingSettings.Default, RowZeroPeer, Missing, Self);
        var answer = peer.Handle(new RowRequest(Self, 0), Now, new Ignore());
        var reply = (RowReply)answer.Effects.OfType<Send>().Single().Message;
        Assert.That(reply.Entries, Does.Contain(Missing).And.Contain(Self));

        // Hearsay is probed first (the entry might name a crashed node); only the answer fills the hole, with its RTT.
        var heard = tick.State.Handle(reply, Now, new Ignore());
        Assert.That(heard.State.Table.Slot(0, 5).Length, Is.Zero, "not learned before it answers");
        Assert.That(heard.Effects.OfType<Send>().Select(send => (send.To, send.Message)), Is.EqualTo(new[] { (Missing.Address, (RingMessage)new Probe(Self, Now)) }));
        var filled = heard.State.Handle(new ProbeReply(Missing, Now), Now + TimeSpan.FromMilliseconds(30), new Ignore()).State;
        Assert.That(filled.Table.Slot(0, 5).ToArray().Select(entry => (entry.Id, entry.RttMicros)), Is.EqualTo(new[] { (Missing.Id, 30_000u) }));
    }

    [Test]
    public void Full_rows_cost_nothing_without_the_proximity_refresh_and_the_timer_stays_off_when_disabled()
    {
        var settings = RingSettings.Default with { CandidatesPerSlot = 1, ProximityProbes = 0 };
        var rowZero = Enumerable.Range(0, 16).Where(column => column != 8)
            .Select(column => new NodeHandle(new NodeId((UInt128)column << 124 | 1), new NodeAddress(10 + column)))
            .ToArray();
        var full = Knowing(settings, Self, rowZero);
        var tick = full.Handle(TableMaintenanceTick.Instance, Now, new Ignore());
        Assert.That(tick.Effects.OfType<Send>(), Is.Empty, "row 0 is full: nothing to ask");
        Assert.That(full.MaintenanceTargets(), Is.Empty);

        var off = RingNodeState.CreateFirst(Self, RingSettings.Default with { TableMaintenanceInterval = TimeSpan.Zero }, LowestRttPlanner.Instance);
        Assert.That(off.Effects.OfType<ScheduleTimer>().Select(timer => timer.Timer), Does.Not.Contain(TableMaintenanceTick.Instance));
        Assert.That(() => (RingSettings.Default with { TableMaintenanceInterval = TimeSpan.FromSeconds(-1) }).Validated(),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.ring.table-maintenance-interval"));
    }

    [Test]
    public void A_row_request_for_a_row_that_does_not_exist_gets_an_empty_answer()
    {
        var peer = Knowing(RingSettings.Default, RowZeroPeer, Missing);
        foreach (var row in new[] { -1, 32, int.MaxValue })
        {
            var reply = (RowReply)peer.Handle(new RowRequest(Self, row), Now, new Ignore()).Effects.OfType<Send>().Single().Message;
            Assert.That(reply.Entries, Is.Empty, $"row {row}");
        }
    }

    /// <summary>
    /// A ring of 400 built by sequential joins keeps holes (rows copied from nodes that joined when the ring was small);
    /// one maintenance period fills most of them and two fill all, and no route is longer than ⌈log₁₆ N⌉ + 1 hops afterwards.
    /// </summary>
    [Test]
    public void Maintenance_fills_the_holes_a_join_built_ring_keeps_and_bounds_route_lengths()
    {
        const int nodes = 400;
        var settings = RingSettings.Default with { CandidatesPerSlot = 1, TableMaintenanceInterval = TimeSpan.FromSeconds(60) };
        var world = RingWorld.Create(nodes, seed: 7, settings);
        world.BuildByJoining(nodes, TimeSpan.FromMilliseconds(100));
        world.Pump.RunFor(TimeSpan.FromSeconds(5));
        Assert.That(world.Pump.Now, Is.LessThan(settings.TableMaintenanceInterval), "no maintenance has run yet");
        var before = Audit(world);
        Assert.That(before.FilledSlotsPerNode, Is.LessThan(before.IdealSlotsPerNode), "precondition: the join left holes");

        world.Pump.RunFor(settings.TableMaintenanceInterval);
        var after = Audit(world);
        var requests = world.Pump.SentByType.GetValueOrDefault(typeof(RowRequest));
        world.Pump.RunFor(settings.TableMaintenanceInterval);
        var afterTwo = Audit(world);
        TestContext.Out.WriteLine($"holes per node {before.IdealSlotsPerNode - before.FilledSlotsPerNode:F4} -> {after.IdealSlotsPerNode - after.FilledSlotsPerNode:F4} -> {afterTwo.IdealSlotsPerNode - afterTwo.FilledSlotsPerNode:F4}; row requests per node in the first period: {(double)requests / nodes:F2}");
        Assert.That(requests, Is.InRange(1, nodes * 4), "at most one request per row with room; 400 nodes have ≤ 4 rows");
        Assert.That(after.IdealSlotsPerNode - after.FilledSlotsPerNode, Is.LessThan((before.IdealSlotsPerNode - before.FilledSlotsPerNode) / 5), "one period fills most holes");
        Assert.That(afterTwo.FillRatio, Is.EqualTo(1.0), $"holes per node by row after two periods: {string.Join(", ", afterTwo.HolesPerNodeByRow)}");

        var sent = world.RouteRandomKeys(1000, TimeSpan.FromSeconds(10));
        Assert.That(sent.Where(s => !world.Deliveries.TryGetValue(s.Lookup, out var d) || d.Node != s.Expected), Is.Empty, "every key reaches the closest live node");
        var bound = (int)Math.Ceiling(Math.Log(nodes, 16)) + 1;
        Assert.That(sent.Max(s => world.Deliveries[s.Lookup].Hops), Is.LessThanOrEqualTo(bound));
    }

    private static TableAudit Audit(RingWorld world)
    {
        var live = world.LiveNodes.ToArray();
        var sorted = live.Select(node => world.Ids[node]).Order().ToArray();
        return RingTableAudit.Tables([.. live.Select(node => world[node]!)], sorted);
    }
}
