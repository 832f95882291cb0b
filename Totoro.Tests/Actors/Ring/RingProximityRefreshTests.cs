using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

/// <summary>
/// Proximity refresh (<see cref="RingSettings.ProximityProbes"/>): full routing-table slots converge toward the nearest
/// nodes with their prefix instead of keeping the first nodes they heard of.
/// </summary>
public class RingProximityRefreshTests
{
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(5);
    private static readonly NodeHandle Self = new(NodeId.Parse("80000000000000000000000000000000"), new NodeAddress(0));

    private sealed class Ignore : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop) => ForwardVerdict.Continue;

        public void Deliver(RouteContext context)
        {
        }
    }

    private static NodeHandle InColumn(int column, int suffix, int address) =>
        new(new NodeId(((UInt128)column << 124) | (UInt128)suffix), new NodeAddress(address));

    /// <summary>A node whose row 0 is full (one candidate per slot), every entry measured at <paramref name="rtt"/>.</summary>
    private static RingNodeState FullRowZero(RingSettings settings, TimeSpan rtt)
    {
        var state = RingNodeState.CreateFirst(Self, settings, LowestRttPlanner.Instance).State;
        foreach (var column in Enumerable.Range(0, 16).Where(column => column != 8))
        {
            var peer = InColumn(column, 1, 10 + column);
            state = state.Handle(new ProbeReply(peer, Now - rtt), Now, new Ignore()).State;
        }

        return state;
    }

    [Test]
    public void A_closer_node_from_a_row_exchange_replaces_the_far_candidate_of_a_full_slot()
    {
        var settings = RingSettings.Default with { CandidatesPerSlot = 1, ProximityRefreshEvery = 1 };
        var state = FullRowZero(settings, TimeSpan.FromMilliseconds(80));
        Assert.That(state.MaintenanceTargets(), Is.Empty, "precondition: row 0 has no room");

        var tick = state.Handle(TableMaintenanceTick.Instance, Now, new Ignore());
        var request = tick.Effects.OfType<Send>().Single();
        Assert.That(request.Message, Is.EqualTo(new RowRequest(Self, 0)), "the full row is fetched for the proximity refresh");

        var near = InColumn(5, 2, 99);
        var replier = new NodeHandle(state.Table.Find(new NodeId((UInt128)3 << 124 | 1))!.Value.Id, new NodeAddress(13));
        var heard = tick.State.Handle(new RowReply(replier, 0, [near]), Now, new Ignore());
        Assert.That(heard.Effects.OfType<Send>().Select(send => (send.To, send.Message)), Is.EqualTo(new[] { (near.Address, (RingMessage)new Probe(Self, Now)) }));
        Assert.That(heard.State.Table.Slot(0, 5).ToArray().Select(entry => entry.Id), Is.EqualTo(new[] { InColumn(5, 1, 15).Id }), "hearsay changes nothing before the probe answers");

        var closer = heard.State.Handle(new ProbeReply(near, Now), Now + TimeSpan.FromMilliseconds(10), new Ignore()).State;
        Assert.That(closer.Table.Slot(0, 5).ToArray().Select(entry => (entry.Id, entry.RttMicros)), Is.EqualTo(new[] { (near.Id, 10_000u) }));

        var farther = heard.State.Handle(new ProbeReply(near, Now), Now + TimeSpan.FromMilliseconds(200), new Ignore()).State;
        Assert.That(farther.Table.Slot(0, 5).ToArray().Select(entry => entry.Id), Is.EqualTo(new[] { InColumn(5, 1, 15).Id }), "a farther node does not replace a closer one");
    }

    [Test]
    public void Unmeasured_join_copies_are_measured_first_so_a_farther_measured_node_cannot_displace_them()
    {
        var settings = RingSettings.Default with { CandidatesPerSlot = 1, ProximityProbes = 2, ProximityRefreshEvery = 1 };
        var state = RingNodeState.CreateFirst(Self, settings, LowestRttPlanner.Instance).State;
        foreach (var column in Enumerable.Range(0, 16).Where(column => column != 8))
        {
            state = state.Handle(new Announce(InColumn(column, 1, 10 + column), Now), Now, new Ignore()).State;
        }

        Assert.That(state.Table.Row(0).ToArray().All(entry => !entry.HasRtt), "precondition: unmeasured entries");
        var tick = state.Handle(TableMaintenanceTick.Instance, Now, new Ignore());
        var probes = tick.Effects.OfType<Send>().Where(send => send.Message is Probe).ToArray();
        Assert.That(probes, Has.Length.EqualTo(2), "the budget goes to the row's own unmeasured entries first");
        var measured = tick.State.Handle(new ProbeReply(InColumn(0, 1, 10), Now), Now + TimeSpan.FromMilliseconds(5), new Ignore()).State;
        var far = InColumn(0, 2, 99);
        var after = measured.Handle(new ProbeReply(far, Now), Now + TimeSpan.FromMilliseconds(40), new Ignore()).State;
        Assert.That(after.Table.Slot(0, 0).ToArray().Select(entry => entry.Id), Is.EqualTo(new[] { InColumn(0, 1, 10).Id }), "the measured near entry stays");
    }

    [Test]
    public void With_the_default_cadence_only_every_fifth_period_refreshes()
    {
        var settings = RingSettings.Default with { CandidatesPerSlot = 1 };
        Assert.That(settings.ProximityRefreshEvery, Is.EqualTo(5));
        var state = FullRowZero(settings, TimeSpan.FromMilliseconds(80));
        var requests = new List<int>();
        for (var period = 1; period <= 10; period++)
        {
            var tick = state.Handle(TableMaintenanceTick.Instance, Now, new Ignore());
            if (tick.Effects.OfType<Send>().Any(send => send.Message is RowRequest))
            {
                requests.Add(period);
            }

            state = tick.State;
        }

        Assert.That(requests, Is.EqualTo(new[] { 5, 10 }), "row 0 is full: only refresh periods ask for it");
        Assert.That(() => (RingSettings.Default with { ProximityRefreshEvery = 0 }).Validated(),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.ring.proximity-refresh-every"));
    }

    [Test]
    public void Probes_per_reply_are_bounded_and_one_per_slot_and_zero_turns_the_refresh_off()
    {
        var settings = RingSettings.Default with { CandidatesPerSlot = 1, ProximityProbes = 3, ProximityRefreshEvery = 1 };
        var state = FullRowZero(settings, TimeSpan.FromMilliseconds(80));
        var offered = Enumerable.Range(0, 16).Where(column => column != 8)
            .SelectMany(column => new[] { InColumn(column, 2, 100 + column), InColumn(column, 3, 200 + column) })
            .ToArray();
        var replier = new NodeHandle(new NodeId((UInt128)3 << 124 | 1), new NodeAddress(13));
        Assert.That(state.Handle(new RowReply(replier, 0, [.. offered]), Now, new Ignore()).Effects.OfType<Send>(), Is.Empty, "no budget before a period starts");
        var ticked = state.Handle(TableMaintenanceTick.Instance, Now, new Ignore());
        Assert.That(ticked.Effects.OfType<Send>().Where(send => send.Message is Probe), Is.Empty, "every entry is measured already");
        var heard = ticked.State.Handle(new RowReply(replier, 0, [.. offered]), Now, new Ignore());
        var probed = heard.Effects.OfType<Send>().Where(send => send.Message is Probe).Select(send => send.To.Value).ToArray();
        Assert.That(probed, Is.EqualTo(new[] { 100, 101, 102 }), "the budget, the replier's best candidate of each slot");
        Assert.That(heard.State.Handle(new RowReply(replier, 0, [.. offered]), Now, new Ignore()).Effects.OfType<Send>(), Is.Empty, "the period's budget is spent");

        var off = RingSettings.Default with { CandidatesPerSlot = 1, ProximityProbes = 0 };
        var quiet = FullRowZero(off, TimeSpan.FromMilliseconds(80));
        Assert.That(quiet.Handle(TableMaintenanceTick.Instance, Now, new Ignore()).Effects.OfType<Send>(), Is.Empty, "full rows cost nothing");
        Assert.That(quiet.Handle(new RowReply(replier, 0, [.. offered]), Now, new Ignore()).Effects.OfType<Send>(), Is.Empty);
        Assert.That(() => (RingSettings.Default with { ProximityProbes = -1 }).Validated(),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.ring.proximity-probes"));
    }

    /// <summary>
    /// 400 nodes joined one by one on the network model: row-0 slots first hold whichever node the join path handed
    /// over. After ten maintenance periods with the refresh the first candidate of a row-0 slot is much nearer (base
    /// RTT) than without it, no node is the first row-0 candidate of a large share of the ring, and every key still
    /// reaches its closest live node.
    /// </summary>
    [Test]
    public void Row_zero_slots_converge_to_near_nodes_and_routes_stay_exact()
    {
        const int nodes = 400;
        var withRefresh = Maintained(nodes, probes: 8);
        var without = Maintained(nodes, probes: 0);
        var (nearRtt, nearMax) = RowZeroFirstCandidates(withRefresh);
        var (farRtt, farMax) = RowZeroFirstCandidates(without);
        TestContext.Out.WriteLine($"row-0 first candidate: mean base RTT {farRtt:F2} ms -> {nearRtt:F2} ms; most references to one node {farMax} -> {nearMax}");
        Assert.That(nearRtt, Is.LessThan(farRtt * 0.8), "the refresh brings row-0 candidates nearer");
        Assert.That(nearMax, Is.LessThan(farMax), "and spreads first hops over more nodes");

        var sent = withRefresh.RouteRandomKeys(1000, TimeSpan.FromSeconds(10));
        Assert.That(sent.Where(s => !withRefresh.Deliveries.TryGetValue(s.Lookup, out var d) || d.Node != s.Expected), Is.Empty, "every key reaches the closest live node");
    }

    private static RingWorld Maintained(int nodes, int probes)
    {
        var settings = RingSettings.Default with { TableMaintenanceInterval = TimeSpan.FromSeconds(20), ProximityProbes = probes, ProximityRefreshEvery = 1 };
        var world = RingWorld.Create(nodes, seed: 11, settings);
        world.BuildByJoining(nodes, TimeSpan.FromMilliseconds(50));
        world.Pump.RunFor(TimeSpan.FromSeconds(20) + (settings.TableMaintenanceInterval * 10));
        return world;
    }

    private static (double MeanRttMs, int MostReferences) RowZeroFirstCandidates(RingWorld world)
    {
        var references = new Dictionary<int, int>();
        var rtts = new List<double>();
        foreach (var node in world.LiveNodes)
        {
            var table = world[node]!.Table;
            for (var column = 0; column < 16; column++)
            {
                var slot = table.Slot(0, column);
                if (slot.Length > 0)
                {
                    var first = slot[0].Address.Value;
                    rtts.Add(world.Network.BaseRtt(node, first).TotalMilliseconds);
                    references[first] = references.GetValueOrDefault(first) + 1;
                }
            }
        }

        return (rtts.Average(), references.Values.Max());
    }
}
