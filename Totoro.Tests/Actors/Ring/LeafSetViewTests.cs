using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Ring;

/// <summary>The leaf set as messages carry it (<see cref="LeafSetView"/>) and the leaf monitors' parallel arrays.</summary>
[TestFixture]
internal sealed class LeafSetViewTests
{
    private static readonly NodeId Owner = NodeId.Parse("80000000000000000000000000000000");

    private static PeerEntry Entry(string hex, int address, uint rtt = PeerEntry.UnknownRtt) =>
        new(NodeId.Parse(hex.PadRight(32, '0')), new NodeAddress(address), rtt);

    [Test]
    public void A_view_lists_the_distinct_members_in_member_order_without_rtts()
    {
        var leaves = LeafSet.Empty(Owner, 4).InsertMany(
        [
            Entry("81", 1, 10), Entry("82", 2, 20), Entry("7f", 3, 30), Entry("7e", 4, 40),
        ]);
        var view = leaves.ToView();
        var expected = leaves.Members().Select(NodeHandle.Of).ToArray();
        Assert.That(view.Length, Is.EqualTo(4));
        Assert.That(view, Is.EqualTo(expected));
        var copied = new NodeHandle[view.Length];
        Assert.That(view.CopyTo(copied), Is.EqualTo(4));
        Assert.That(copied, Is.EqualTo(expected));
    }

    [Test]
    public void In_a_small_ring_a_node_on_both_sides_is_listed_and_counted_once()
    {
        // The node exactly opposite the owner is half the ring away in both directions, so both sides hold it.
        var leaves = LeafSet.Empty(Owner, 4).InsertMany([Entry("c0", 1), Entry("00", 2)]);
        Assert.That(leaves.Clockwise.Length + leaves.CounterClockwise.Length, Is.EqualTo(3));
        var view = leaves.ToView();
        Assert.That(view.Length, Is.EqualTo(2));
        Assert.That(view, Is.EqualTo(leaves.Members().Select(NodeHandle.Of)));
    }

    [Test]
    public void A_view_shares_the_leaf_set_arrays_and_round_trips_over_the_wire_as_handles()
    {
        var leaves = LeafSet.Empty(Owner, 4).InsertMany([Entry("81", 1, 10), Entry("7f", 2, 20)]);
        var sender = new NodeHandle(Owner, new NodeAddress(9));
        var reply = new AnnounceReply(sender, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), leaves.ToView());
        var (manifest, bytes) = RingTestSerializers.Registry.Serialize(reply);
        var read = (AnnounceReply)RingTestSerializers.Registry.Deserialize(manifest, bytes, new NoRefs());
        Assert.That(read.LeafSet, Is.EqualTo(reply.LeafSet));
        Assert.That(read.LeafSet.Length, Is.EqualTo(2));
        Assert.That(read.LeafSet, Is.EqualTo(reply.LeafSet.ToArray()), "the decoded view holds handles, the sent one shares the arrays; both list the same members");
    }

    [Test]
    public void An_empty_or_default_view_has_no_members()
    {
        Assert.That(default(LeafSetView).Length, Is.Zero);
        Assert.That(default(LeafSetView), Is.Empty);
        LeafSetView empty = [];
        Assert.That(empty, Is.Empty);
        Assert.That(empty, Is.EqualTo(default(LeafSetView)));
    }

    [Test]
    public void Monitors_replace_a_detector_without_copying_the_ids_and_remove_in_order()
    {
        var ids = new[] { NodeId.FromName("a"), NodeId.FromName("b"), NodeId.FromName("c") };
        var start = PhiAccrualDetector.Start(TimeSpan.Zero, PhiAccrualSettings.Default);
        var monitors = LeafMonitors.Create(ids, [start, start, start], 3);
        var beat = start.Heartbeat(TimeSpan.FromSeconds(1), PhiAccrualSettings.Default);
        var updated = monitors.WithDetector(1, beat);
        Assert.That(updated.DetectorAt(1), Is.EqualTo(beat));
        Assert.That(updated.DetectorAt(0), Is.EqualTo(start));
        Assert.That(monitors.DetectorAt(1), Is.EqualTo(start), "the old version is unchanged");
        Assert.That(updated, Is.Not.EqualTo(monitors));
        Assert.That(updated.IndexOf(ids[2]), Is.EqualTo(2));

        var without = updated.Without(ids[0]);
        Assert.That(without.Count, Is.EqualTo(2));
        Assert.That(new[] { without.IdAt(0), without.IdAt(1) }, Is.EqualTo(new[] { ids[1], ids[2] }));
        Assert.That(without.DetectorAt(0), Is.EqualTo(beat));
        Assert.That(updated.Without(NodeId.FromName("z")), Is.EqualTo(updated), "removing an unmonitored id keeps the same value");
        Assert.That(LeafMonitors.Create(ids, [start, start, start], 1).Without(ids[0]).Count, Is.Zero);
        Assert.That(LeafMonitors.None.IndexOf(ids[0]), Is.EqualTo(-1));
    }

    private sealed class NoRefs : IActorRefResolver
    {
        public IActorRef Resolve(string path) => throw new InvalidOperationException("ring messages carry no refs");
    }
}
