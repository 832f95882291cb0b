using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

public class RingStateTests
{
    private static readonly NodeId Owner = NodeId.Parse("80000000000000000000000000000000");

    private static PeerEntry Entry(string hex, uint rtt = PeerEntry.UnknownRtt, int address = 0) =>
        new(NodeId.Parse(hex.PadRight(32, '0')), new NodeAddress(address), rtt);

    [Test]
    public void Entries_are_24_bytes_and_detectors_8()
    {
        Assert.That(System.Runtime.CompilerServices.Unsafe.SizeOf<PeerEntry>(), Is.EqualTo(24));
        Assert.That(System.Runtime.CompilerServices.Unsafe.SizeOf<PhiAccrualDetector>(), Is.EqualTo(8), "a heartbeat copies only the detectors");
    }

    [Test]
    public void Routing_table_places_entries_by_shared_prefix_and_next_digit()
    {
        var table = RoutingTable.Empty(Owner, IdGeometry.Default, 3)
            .Insert(Entry("3", 10))
            .Insert(Entry("85", 20))
            .Insert(Entry("8003", 30));
        Assert.That(table.Slot(0, 3).ToArray().Select(e => e.RttMicros), Is.EqualTo(new[] { 10u }));
        Assert.That(table.Slot(1, 5).ToArray().Select(e => e.RttMicros), Is.EqualTo(new[] { 20u }));
        Assert.That(table.Slot(3, 3).ToArray().Select(e => e.RttMicros), Is.EqualTo(new[] { 30u }));
        Assert.That(table.Depth, Is.EqualTo(4));
        Assert.That(table.Count, Is.EqualTo(3));
        Assert.That(table.Insert(Entry("8")).Count, Is.EqualTo(3), "the owner is never an entry");
    }

    [Test]
    public void Routing_table_slot_keeps_the_lowest_rtt_candidates_in_order()
    {
        var table = RoutingTable.Empty(Owner, IdGeometry.Default, 3);
        foreach (var (suffix, rtt) in new[] { ("31", 50u), ("32", 10u), ("33", 40u), ("34", 30u), ("35", PeerEntry.UnknownRtt) })
        {
            table = table.Insert(Entry(suffix, rtt));
        }

        Assert.That(table.Slot(0, 3).ToArray().Select(e => e.RttMicros), Is.EqualTo(new[] { 10u, 30u, 40u }));
        var remeasured = table.Insert(Entry("33", 5));
        Assert.That(remeasured.Slot(0, 3).ToArray().Select(e => e.RttMicros), Is.EqualTo(new[] { 5u, 10u, 30u }));
        var unmeasuredUpdate = remeasured.Insert(Entry("33"));
        Assert.That(unmeasuredUpdate, Is.SameAs(remeasured), "an update without RTT keeps the measured one");
    }

    [Test]
    public void Routing_table_shares_unchanged_rows_and_trims_empty_tail_rows()
    {
        var table = RoutingTable.Empty(Owner, IdGeometry.Default, 3).Insert(Entry("3", 1)).Insert(Entry("8003", 2));
        var grown = table.Insert(Entry("8004", 3));
        Assert.That(grown.Row(0).ToArray(), Is.EqualTo(table.Row(0).ToArray()));
        Assert.That(grown.ApproximateBytes(includeSharedRows: false), Is.LessThan(grown.ApproximateBytes()));
        var shrunk = grown.Remove(NodeId.Parse("80030000000000000000000000000000")).Remove(NodeId.Parse("80040000000000000000000000000000"));
        Assert.That(shrunk.Depth, Is.EqualTo(1));
        Assert.That(shrunk.Remove(Owner), Is.SameAs(shrunk));
    }

    [Test]
    public void Routing_table_batch_insert_equals_inserting_one_by_one()
    {
        var random = new Random(7);
        for (var round = 0; round < 50; round++)
        {
            var start = RoutingTable.Empty(Owner, IdGeometry.Default, 1 + (round % 3));
            for (var i = 0; i < random.Next(0, 40); i++)
            {
                start = start.Insert(RandomEntry(random));
            }

            var batch = Enumerable.Range(0, random.Next(0, 120)).Select(_ => RandomEntry(random)).ToList();
            batch.AddRange(start.Entries().Take(5).Select(e => e with { RttMicros = (uint)random.Next(1, 50) }));
            batch.AddRange(start.Entries().Take(3).Select(e => e with { RttMicros = PeerEntry.UnknownRtt }));
            var oneByOne = batch.Aggregate(start, (table, entry) => table.Insert(entry));
            var many = start.InsertMany(batch.ToArray());
            Assert.That(many.Entries().ToArray(), Is.EqualTo(oneByOne.Entries().ToArray()), $"round {round}");
            Assert.That(many.Depth, Is.EqualTo(oneByOne.Depth), $"round {round}");
        }
    }

    [Test]
    public void Leaf_set_keeps_the_nearest_on_each_side()
    {
        var leaves = LeafSet.Empty(Owner, 4);
        foreach (var hex in new[] { "81", "82", "83", "7f", "7e", "7d", "00" })
        {
            leaves = leaves.Insert(Entry(hex));
        }

        Assert.That(leaves.Clockwise.ToArray().Select(e => e.Id.ToShortString(2)), Is.EqualTo(new[] { "81", "82" }));
        Assert.That(leaves.CounterClockwise.ToArray().Select(e => e.Id.ToShortString(2)), Is.EqualTo(new[] { "7f", "7e" }));
        Assert.That(leaves.Covers(NodeId.Parse("81800000000000000000000000000000")), Is.True);
        Assert.That(leaves.Covers(NodeId.Parse("90000000000000000000000000000000")), Is.False);
        Assert.That(leaves.Remove(NodeId.Parse("81000000000000000000000000000000")).Clockwise.Length, Is.EqualTo(1));
    }

    [Test]
    public void Leaf_set_sides_never_reach_past_half_the_ring()
    {
        var leaves = LeafSet.Empty(Owner, 16).Insert(Entry("10")).Insert(Entry("f0"));
        Assert.That(leaves.Clockwise.ToArray().Select(e => e.Id.ToShortString(2)), Is.EqualTo(new[] { "f0" }));
        Assert.That(leaves.CounterClockwise.ToArray().Select(e => e.Id.ToShortString(2)), Is.EqualTo(new[] { "10" }));
        Assert.That(leaves.Covers(NodeId.Parse("40000000000000000000000000000000")), Is.True);
        Assert.That(leaves.Covers(NodeId.Parse("01000000000000000000000000000000")), Is.False);
    }

    [Test]
    public void Neighborhood_keeps_only_measured_closest()
    {
        var set = NeighborhoodSet.Empty(2).Insert(Entry("1", 30)).Insert(Entry("2", 10)).Insert(Entry("3", 20)).Insert(Entry("4"));
        Assert.That(set.Entries.ToArray().Select(e => e.RttMicros), Is.EqualTo(new[] { 10u, 20u }));
        Assert.That(set.Remove(NodeId.Parse("20000000000000000000000000000000")).Entries.Length, Is.EqualTo(1));
    }

    [Test]
    public void Phi_rises_when_heartbeats_stop_and_stays_low_while_they_arrive()
    {
        var settings = PhiAccrualSettings.Default;
        var detector = PhiAccrualDetector.Start(TimeSpan.Zero, settings);
        for (var second = 1; second <= 10; second++)
        {
            detector = detector.Heartbeat(TimeSpan.FromSeconds(second), settings);
        }

        Assert.That(detector.Phi(TimeSpan.FromSeconds(10.9), settings), Is.LessThan(1));
        Assert.That(detector.IsAvailable(TimeSpan.FromSeconds(11.5), settings), Is.True);
        Assert.That(detector.Phi(TimeSpan.FromSeconds(14), settings), Is.GreaterThan(settings.Threshold));
        Assert.That(detector.Phi(TimeSpan.FromSeconds(13), settings), Is.LessThan(detector.Phi(TimeSpan.FromSeconds(14), settings)));
    }

    [Test]
    public void Phi_survives_the_millisecond_clock_wrapping()
    {
        var settings = PhiAccrualSettings.Default;
        var start = TimeSpan.FromMilliseconds(uint.MaxValue - 1500.0);
        var detector = PhiAccrualDetector.Start(start, settings);
        for (var second = 1; second <= 5; second++)
        {
            detector = detector.Heartbeat(start + TimeSpan.FromSeconds(second), settings);
        }

        Assert.That((double)detector.MeanMs, Is.EqualTo(1000).Within(5));
        Assert.That(detector.Phi(start + TimeSpan.FromSeconds(5.5), settings), Is.LessThan(1));
        Assert.That(detector.Phi(start + TimeSpan.FromSeconds(9), settings), Is.GreaterThan(settings.Threshold));
    }

    [Test]
    public void Phi_threshold_is_configurable()
    {
        var strict = PhiAccrualSettings.Default with { Threshold = 1 };
        var detector = PhiAccrualDetector.Start(TimeSpan.Zero, strict).Heartbeat(TimeSpan.FromSeconds(1), strict);
        var at = TimeSpan.FromSeconds(3);
        Assert.That(detector.IsAvailable(at, strict), Is.False);
        Assert.That(detector.IsAvailable(at, PhiAccrualSettings.Default), Is.True);
    }

    [Test]
    public void Settings_name_the_offending_key()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => (RingSettings.Default with { LeafSetSize = 7 }).Validated());
        Assert.That(error!.Message, Does.Contain("totoro.ring.leaf-set-size"));
    }

    /// <summary>Ids close to the owner (shared prefixes of 0–4 digits) so that deep rows and full slots occur.</summary>
    private static PeerEntry RandomEntry(Random random)
    {
        var shared = random.Next(0, 5) * 4;
        var noise = new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()) >> shared;
        var id = new NodeId((Owner.Value & ~(UInt128.MaxValue >> shared)) | (noise & (UInt128.MaxValue >> shared)));
        var rtt = random.Next(3) == 0 ? PeerEntry.UnknownRtt : (uint)random.Next(1, 50);
        return new PeerEntry(id, new NodeAddress(random.Next(1000)), rtt);
    }
}
