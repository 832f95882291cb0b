using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

/// <summary>
/// Sparse rows (<see cref="RingSettings.SparseExtraCandidates"/>): the deepest routing-table rows, whose slot blocks are no
/// wider than the leaf set's span, keep one more candidate per slot, so the final approach can reach the key's closest
/// node instead of the block-mate the proximity order kept.
/// </summary>
public class RingSparseRowTests
{
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(5);
    private static readonly NodeId Owner = NodeId.Parse("80000000000000000000000000000000");
    private static readonly NodeHandle Self = new(Owner, new NodeAddress(0));

    private sealed class Ignore : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop) => ForwardVerdict.Continue;

        public void Deliver(RouteContext context)
        {
        }
    }

    private static PeerEntry Entry(string hex, uint rtt = PeerEntry.UnknownRtt, int address = 0) =>
        new(NodeId.Parse(hex.PadRight(32, '0')), new NodeAddress(address), rtt);

    private static NodeHandle At(UInt128 id, int address) => new(new NodeId(id), new NodeAddress(address));

    /// <summary>A first node that heard from <paramref name="perSide"/> nodes on each side, k · 2¹⁰⁰ away (k = 1, 2, …).</summary>
    private static RingNodeState WithLeaves(RingSettings settings, int perSide)
    {
        var state = RingNodeState.CreateFirst(Self, settings, LowestRttPlanner.Instance).State;
        for (var k = 1; k <= perSide; k++)
        {
            state = state.Handle(new Announce(At(Owner.Value + ((UInt128)k << 100), 2 * k), Now), Now, new Ignore()).State;
            state = state.Handle(new Announce(At(Owner.Value - ((UInt128)k << 100), (2 * k) + 1), Now), Now, new Ignore()).State;
        }

        return state;
    }

    [Test]
    public void A_sparse_row_keeps_one_more_candidate_per_slot_and_a_dense_row_does_not()
    {
        var table = RoutingTable.Empty(Owner, IdGeometry.Default, 1, sparseExtraCandidates: 1).WithSparseFromRow(3);
        table = table
            .Insert(Entry("31", 10)).Insert(Entry("32", 20)).Insert(Entry("33", 30))
            .Insert(Entry("800031", 10)).Insert(Entry("800032", 20)).Insert(Entry("800033", 30));

        Assert.That(table.CapacityOf(0), Is.EqualTo(1));
        Assert.That(table.CapacityOf(4), Is.EqualTo(2));
        Assert.That(table.Slot(0, 3).ToArray().Select(entry => entry.RttMicros), Is.EqualTo(new[] { 10u }), "row 0 is dense: one candidate");
        Assert.That(table.Slot(4, 3).ToArray().Select(entry => entry.RttMicros), Is.EqualTo(new[] { 10u, 20u }), "row 4 is sparse: the two nearest");
    }

    [Test]
    public void A_row_that_stops_being_sparse_drops_its_extra_candidates_worst_first()
    {
        var table = RoutingTable.Empty(Owner, IdGeometry.Default, 1, sparseExtraCandidates: 2).WithSparseFromRow(2)
            .Insert(Entry("8031", 30)).Insert(Entry("8032", 10)).Insert(Entry("8033", 20))
            .Insert(Entry("80031", 30)).Insert(Entry("80032", 10));
        Assert.That(table.Count, Is.EqualTo(5), "precondition: rows 2 and 3 hold every candidate");

        var grown = table.WithSparseFromRow(3);
        Assert.That(grown.Slot(2, 3).ToArray().Select(entry => entry.RttMicros), Is.EqualTo(new[] { 10u }), "row 2 is dense now: the best stays");
        Assert.That(grown.Slot(3, 3).ToArray().Select(entry => entry.RttMicros), Is.EqualTo(new[] { 10u, 30u }), "row 3 is still sparse");
        Assert.That(table.Count, Is.EqualTo(5), "the old version is unchanged");
    }

    [Test]
    public void Batch_insert_equals_inserting_one_by_one_with_sparse_rows()
    {
        var random = new Random(11);
        for (var round = 0; round < 200; round++)
        {
            var start = RoutingTable.Empty(Owner, IdGeometry.Default, 1 + (round % 2), sparseExtraCandidates: 1 + (round % 3)).WithSparseFromRow(random.Next(0, 6));
            var entries = Enumerable.Range(0, 40).Select(_ =>
            {
                var suffix = ((UInt128)(ulong)random.NextInt64() << 64) | (ulong)random.NextInt64();
                var id = Owner.Value ^ (suffix >> random.Next(0, 28));
                return new PeerEntry(new NodeId(id), new NodeAddress(random.Next(100)), random.Next(3) == 0 ? PeerEntry.UnknownRtt : (uint)random.Next(1, 50));
            }).ToArray();

            var oneByOne = entries.Aggregate(start, (table, entry) => table.Insert(entry));
            var batched = start.InsertMany(entries);
            for (var row = 0; row < Math.Max(oneByOne.Depth, batched.Depth); row++)
            {
                Assert.That(batched.Row(row).ToArray(), Is.EqualTo(oneByOne.Row(row).ToArray()), $"round {round}, row {row}");
            }
        }
    }

    [Test]
    public void A_node_places_its_sparse_rows_where_slot_blocks_are_at_most_half_its_leaf_set_span()
    {
        var state = WithLeaves(RingSettings.Default with { CandidatesPerSlot = 1, SparseExtraCandidates = 1 }, 7);

        Assert.That(state.Table.SparseFromRow, Is.EqualTo(int.MaxValue), "no sparse rows until the leaf set is full");

        state = state.Handle(new Announce(At(Owner.Value + ((UInt128)8 << 100), 16), Now), Now, new Ignore()).State;
        state = state.Handle(new Announce(At(Owner.Value - ((UInt128)8 << 100), 17), Now), Now, new Ignore()).State;

        // The leaf set spans 16 · 2¹⁰⁰ = 2¹⁰⁴; a row-r slot block is 2^(128 − 4(r + 1)) wide, so rows from 6 (blocks of
        // 2¹⁰⁰, at most half the span) are sparse; row 5's blocks are as wide as the whole span.
        Assert.That(state.Table.SparseFromRow, Is.EqualTo(6));
    }

    [TestCase(1, "the sparse row keeps the key's closest node beside its block-mate: the route hops straight to it")]
    [TestCase(0, "without the extra candidate the slot keeps only the nearer block-mate")]
    public void The_final_approach_hops_straight_to_the_closest_node_when_a_sparse_slot_keeps_both_block_mates(int extra, string because)
    {
        var state = WithLeaves(RingSettings.Default with { CandidatesPerSlot = 1, SparseExtraCandidates = extra }, 8);

        // Rows from 6 are sparse (the leaf set spans 2¹⁰⁴, 2¹⁰³ each side). The key is the last id of row 6's column-B
        // block, outside the leaf set; its closest node is the first one of column C's block, whose measured block-mate
        // is nearer to us.
        var key = new NodeId(Owner.Value + ((UInt128)0xC << 100) - 1);
        var columnThree = At(Owner.Value + ((UInt128)0xB << 100), 49);
        var closest = At(Owner.Value + ((UInt128)0xC << 100) + 1, 50);
        var blockMate = At(Owner.Value + ((UInt128)0xC << 100) + ((UInt128)1 << 96), 51);
        state = state.Handle(new Announce(columnThree, Now), Now, new Ignore()).State;
        state = state.Handle(new ProbeReply(blockMate, Now), Now + TimeSpan.FromMilliseconds(5), new Ignore()).State;
        state = state.Handle(new Announce(closest, Now), Now, new Ignore()).State;

        var step = state.Handle(new RouteMessage(Self, key, "lookup", 0), Now, new Ignore());
        var next = step.Effects.OfType<Send>().Single().To;
        Assert.That(next, Is.EqualTo(extra > 0 ? closest.Address : blockMate.Address), because);
    }

    [TestCase(1, "the block holds about one node: the closest slot candidate ends the route")]
    [TestCase(0, "without the extra candidate the slot keeps only the nearer block-mate")]
    public void In_a_nearly_empty_block_the_final_approach_takes_the_closest_slot_candidate_over_a_nearer_one(int extra, string because)
    {
        var state = WithLeaves(RingSettings.Default with { CandidatesPerSlot = 1, SparseExtraCandidates = extra }, 8);

        // The leaf set spans 2¹⁰⁴, so a row-6 block (2¹⁰⁰ wide) is under an eighth of it: about one node. The key is in
        // row 6's column C, outside the leaf set; both nodes of its slot are kept, the farther one is the key's closest.
        var key = new NodeId(Owner.Value + ((UInt128)0xC << 100));
        var closest = At(key.Value + 1, 50);
        var blockMate = At(key.Value + ((UInt128)1 << 96), 51);
        state = state.Handle(new ProbeReply(blockMate, Now), Now + TimeSpan.FromMilliseconds(5), new Ignore()).State;
        state = state.Handle(new Announce(closest, Now), Now, new Ignore()).State;
        Assert.That(state.Table.Slot(6, 0xC).Length, Is.EqualTo(1 + extra), "precondition: the slot keeps 1 + extra candidates");

        var step = state.Handle(new RouteMessage(Self, key, "lookup", 0), Now, new Ignore());
        Assert.That(step.Effects.OfType<Send>().Single().To, Is.EqualTo(extra > 0 ? closest.Address : blockMate.Address), because);
    }

    [Test]
    public void The_leaf_span_and_block_widths_the_rules_compare()
    {
        var leaves = LeafSet.Empty(Owner, 4).Insert(Entry("81")).Insert(Entry("82")).Insert(Entry("7f"));
        Assert.That(leaves.FullSpan, Is.Null, "one side is not full");
        leaves = leaves.Insert(Entry("7e"));
        Assert.That(leaves.FullSpan, Is.EqualTo((UInt128)4 << 120), "from 7e… to 82…");
        Assert.That(IdGeometry.Default.BlockWidth(0), Is.EqualTo(UInt128.One << 124));
        Assert.That(IdGeometry.Default.BlockWidth(5), Is.EqualTo(UInt128.One << 104));
        Assert.That(IdGeometry.Default.BlockWidth(31), Is.EqualTo(UInt128.One), "past the last digit a block is one id");
    }

    [Test]
    public void The_extra_candidates_are_validated_and_default_to_one()
    {
        Assert.That(RingSettings.Default.SparseExtraCandidates, Is.EqualTo(1));
        Assert.That(() => (RingSettings.Default with { SparseExtraCandidates = -1 }).Validated(),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.ring.sparse-extra-candidates"));
        Assert.That(() => (RingSettings.Default with { SparseExtraCandidates = 17 }).Validated(),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.ring.sparse-extra-candidates"));
        Assert.That(RoutingTable.Empty(Owner, IdGeometry.Default, 1).WithSparseFromRow(0).CapacityOf(0), Is.EqualTo(1), "0 extra: sparse rows keep the base count");
    }
}
