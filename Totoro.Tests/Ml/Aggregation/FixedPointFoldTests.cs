using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

/// <summary>
/// The exact fold (<see cref="FixedPointFormat"/>, the default): any tree shape, grouping and order gives the flat
/// fold's bits; the mean is the float64 FedAvg within the stated bound; out-of-range inputs and impossible partials
/// are refused by name; dropouts give the weighted mean of those who reported.
/// </summary>
[TestFixture]
public sealed class FixedPointFoldTests
{
    private static readonly AggregationLimits Exact = AggregationLimits.Default;

    [FsCheck.NUnit.Property(Replay = "20261121,17", MaxTest = 60)]
    public void Flat_chain_balanced_and_random_trees_in_shuffled_orders_give_bit_identical_aggregates(int seed)
    {
        var rng = new Random(seed);
        int length = 1 + rng.Next(400);
        var shape = Fixtures.Shape(length);
        var updates = Updates(rng, 1 + rng.Next(50), length);

        var flat = Fold(shape, updates);
        var candidates = new[]
        {
            Chain(shape, updates),
            Chain(shape, [.. updates.OrderBy(_ => rng.Next())]),
            Balanced(shape, updates, 2),
            Balanced(shape, [.. updates.OrderBy(_ => rng.Next())], 1 + rng.Next(8)),
            RandomTree(shape, [.. updates.OrderBy(_ => rng.Next())], rng),
            RandomTree(shape, [.. updates.OrderBy(_ => rng.Next())], rng),
        };

        foreach (var tree in candidates)
        {
            Assert.That(tree.FixedSums.ToArray(), Is.EqualTo(flat.FixedSums.ToArray()));
            Assert.That(Bits(tree.Mean.Span), Is.EqualTo(Bits(flat.Mean.Span)), "the dequantized mean is bit-identical");
            Assert.That(tree.TotalWeight, Is.EqualTo(flat.TotalWeight));
            Assert.That(tree.Contributors, Is.EqualTo(flat.Contributors));
        }
    }

    [Test]
    public void The_float_fold_is_not_order_independent_which_is_why_the_exact_one_exists()
    {
        var rng = new Random(4);
        const int length = 2000;
        var shape = Fixtures.Shape(length);
        var updates = Updates(rng, 40, length);

        var flat = Fixtures.Fold(shape, updates, Fixtures.FloatFold);
        var tree = Balanced(shape, updates, 3, Fixtures.FloatFold);

        Assert.That(Bits(tree.Mean.Span), Is.Not.EqualTo(Bits(flat.Mean.Span)));
        Assert.That(Bits(Balanced(shape, updates, 3).Mean.Span), Is.EqualTo(Bits(Fold(shape, updates).Mean.Span)));
    }

    [TestCase(8)]
    [TestCase(32)]
    [TestCase(48)]
    public void The_mean_is_the_float64_FedAvg_within_the_documented_bound(int fractionBits)
    {
        var limits = Exact with { FixedPoint = new FixedPointFormat(fractionBits) };
        var rng = new Random(fractionBits);
        const int length = 5000;
        var shape = Fixtures.Shape(length);
        // Magnitudes from 1e-6 to 10 across coordinates (weighted values stay well inside ±2^(53−48) = ±32 for F = 48).
        var updates = Enumerable.Range(1, 30).Select(i => new ClientUpdate(
            (ulong)i, Fixtures.Architecture,
            Enumerable.Range(0, length).Select(j => (float)(((rng.NextDouble() * 2) - 1) * Math.Pow(10, (j % 7) - 6))).ToArray(),
            fractionBits == 48 ? 1 : rng.Next(1, 500))).ToList();
        var reference = Fixtures.ReferenceMean(updates);

        var mean = Balanced(shape, updates, 4, limits).Mean.Span;

        // |error| ≤ n·2^−(F+1)/W (one rounding per contribution) + half an ulp of float32 (the one narrowing) + float64 slack.
        double quantization = updates.Count * Math.ScaleB(0.5, -fractionBits) / updates.Sum(u => u.Weight);
        for (int j = 0; j < length; j++)
        {
            double halfUlp = Math.ScaleB(1.0, Math.ILogB(Math.Max(Math.Abs(reference[j]), 1e-38)) - 24);
            Assert.That(Math.Abs(mean[j] - reference[j]), Is.LessThanOrEqualTo((quantization * 1.000001) + halfUlp + (Math.Abs(reference[j]) * 1e-15)), $"coordinate {j}");
        }
    }

    [Test]
    public void A_coordinate_outside_the_range_is_refused_by_name_and_leaves_the_aggregate_untouched()
    {
        var shape = Fixtures.Shape(8);
        var accumulator = new UpdateAccumulator(shape, Exact);
        Assert.That(accumulator.Accumulate(new ClientUpdate(1, Fixtures.Architecture, new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, 10)), Is.Null);
        var before = accumulator.ToPartial();
        var huge = new float[8];
        huge[5] = 300_000f; // × weight 10 = 3e6 > 2^21

        var rejection = accumulator.Accumulate(new ClientUpdate(2, Fixtures.Architecture, huge, 10));
        var nan = new float[8];
        nan[2] = float.NaN;
        var nonFinite = accumulator.Accumulate(new ClientUpdate(3, Fixtures.Architecture, nan, 10));

        Assert.That(rejection!.Reason, Is.EqualTo(RejectionReason.ValueOutOfRange));
        Assert.That(rejection.Detail, Does.Contain("coordinate 5").And.Contain("3000000").And.Contain("2097152"));
        Assert.That(nonFinite!.Reason, Is.EqualTo(RejectionReason.NonFiniteValue));
        var after = accumulator.ToPartial();
        Assert.That(after.FixedSums.ToArray(), Is.EqualTo(before.FixedSums.ToArray()));
        Assert.That((after.TotalWeight, after.ContributorCount), Is.EqualTo((10.0, 1)));
    }

    [Test]
    public void A_sum_that_could_wrap_around_is_refused_before_it_does()
    {
        // F = 48: one weighted coordinate up to ±32, so each quantized input is up to 2^53 and about 512 fill 2^62.
        var limits = Exact with { FixedPoint = new FixedPointFormat(48) };
        var accumulator = new UpdateAccumulator(Fixtures.Shape(1), limits);
        int accepted = 0;
        UpdateRejected? refused = null;
        for (ulong id = 1; id <= 600 && refused is null; id++)
        {
            refused = accumulator.Accumulate(new ClientUpdate(id, Fixtures.Architecture, new float[] { 31.5f }, 1));
            accepted += refused is null ? 1 : 0;
        }

        Assert.That(refused, Is.Not.Null);
        Assert.That(refused!.Detail, Does.Contain("could overflow"));
        Assert.That(accepted, Is.InRange(500, 530));
        var partial = accumulator.ToPartial();
        Assert.That(partial.FixedSums.Span[0], Is.GreaterThan(0), "no wraparound");
        Assert.That(partial.Mean.Span[0], Is.EqualTo(31.5f));

        // Two such partials cannot be merged either: the parent refuses rather than wrap.
        var other = new UpdateAccumulator(Fixtures.Shape(1), limits);
        for (ulong id = 1001; id < 1001 + (ulong)accepted; id++)
        {
            other.Accumulate(new ClientUpdate(id, Fixtures.Architecture, new float[] { 31.5f }, 1));
        }

        Assert.That(accumulator.Merge(other.ToPartial())!.Detail, Does.Contain("could overflow"));
    }

    [Test]
    public void Dropouts_give_the_weighted_mean_of_those_who_reported_whatever_the_tree()
    {
        var rng = new Random(21);
        const int length = 300;
        var shape = Fixtures.Shape(length);
        var invited = Updates(rng, 24, length);
        var reported = invited.Where((_, i) => i % 3 != 1).ToList(); // a third dropped out

        var tree = Balanced(shape, reported, 3);
        var flat = Fold(shape, reported);

        Assert.That(Bits(tree.Mean.Span), Is.EqualTo(Bits(flat.Mean.Span)));
        Assert.That(tree.TotalWeight, Is.EqualTo(reported.Sum(u => u.Weight)));
        Assert.That(Fixtures.RelativeL2(tree.Mean.Span, Fixtures.ReferenceMean(reported)), Is.LessThan(1e-7));
    }

    [Test]
    public void After_a_reset_no_sum_or_bound_of_the_previous_round_leaks()
    {
        var shape = Fixtures.Shape(100);
        var previous = Updates(new Random(5), 8, 100);
        var next = Updates(new Random(6), 8, 100).Select(u => u with { ContributorId = u.ContributorId + 100 }).ToList();
        var accumulator = new UpdateAccumulator(shape, Exact);
        Assert.That(accumulator.AccumulateBatch(previous), Is.Empty);

        accumulator.Reset();
        Assert.That(accumulator.ToPartial().FixedSums.ToArray(), Is.All.EqualTo(0L));
        Assert.That(accumulator.AccumulateBatch(next), Is.Empty);

        Assert.That(accumulator.ToPartial().FixedSums.ToArray(), Is.EqualTo(Fold(shape, next).FixedSums.ToArray()));
    }

    [Test]
    public void Partials_of_another_format_are_refused_and_an_empty_one_is_the_identity()
    {
        var shape = Fixtures.Shape(16);
        var updates = Updates(new Random(2), 4, 16);
        var accumulator = new UpdateAccumulator(shape, Exact);
        var coarse = Fixtures.Fold(shape, updates.Take(2), Exact with { FixedPoint = new FixedPointFormat(24) });
        var floating = Fixtures.Fold(shape, updates.Take(2), Fixtures.FloatFold);

        Assert.That(accumulator.Merge(coarse)!.Detail, Does.Contain("24 fraction bits"));
        Assert.That(accumulator.Merge(floating)!.Detail, Does.Contain("float"));
        Assert.That(accumulator.Merge(PartialAggregate.Empty(shape)), Is.Null);
        Assert.That(accumulator.ContributorCount, Is.EqualTo(0));
        Assert.That(PartialAggregate.TryFold(shape, [PartialAggregate.Empty(shape), Fold(shape, updates)], out var folded, out _), Is.True);
        Assert.That(folded!.FixedSums.ToArray(), Is.EqualTo(Fold(shape, updates).FixedSums.ToArray()));
    }

    [Test]
    public void TryCreateFixed_refuses_what_a_peer_could_forge()
    {
        var shape = Fixtures.Shape(2);
        var metrics = System.Collections.Immutable.ImmutableSortedDictionary<string, double>.Empty;
        var limits = new AggregationLimits(100);
        bool Create(long[] sums, int bits, double weight, ulong[] ids) =>
            PartialAggregate.TryCreateFixed(shape, sums, bits, weight, [.. ids], metrics, limits, out _, out _);

        Assert.That(Create([5, -7], 32, 20, [1, 2]), Is.True);
        Assert.That(Create([5], 32, 20, [1, 2]), Is.False, "length");
        Assert.That(Create([5, -7], 7, 20, [1, 2]), Is.False, "fraction bits below the minimum");
        Assert.That(Create([5, -7], 49, 20, [1, 2]), Is.False, "fraction bits above the maximum");
        Assert.That(Create([5, -7], 32, 300, [1, 2]), Is.False, "weight above 2 × 100");
        Assert.That(Create([5, -7], 32, 20, [2, 1]), Is.False, "ids not ascending");
        Assert.That(Create([(1L << 54) + 1, 0], 32, 20, [1]), Is.False, "one contributor adds at most 2^53");
        Assert.That(Create([long.MinValue, 0], 32, 20, [1, 2]), Is.False);
        Assert.That(Create([1, 0], 32, 0, []), Is.False, "an empty partial's sums are zero");
    }

    [Test]
    public void Vector_lanes_and_the_scalar_tail_round_ties_to_even_alike()
    {
        // Ties k + 0.5 (exact in float32 and float64) in the vector body and in the tail: both round to even.
        var x = Enumerable.Range(-20, 37).Select(k => k + 0.5f).ToArray();
        var q = new long[x.Length];

        Assert.That(FixedPointKernels.QuantizeAdd(x, 1.0, q, subtract: false, out long maxAbs), Is.EqualTo(-1));
        Assert.That(q, Is.EqualTo(x.Select(v => (long)Math.Round((double)v, MidpointRounding.ToEven)).ToArray()));
        Assert.That(maxAbs, Is.EqualTo(20));
        Assert.That(FixedPointKernels.QuantizeAdd(x, 1.0, q, subtract: true, out _), Is.EqualTo(-1));
        Assert.That(q, Is.All.EqualTo(0L), "subtracting the same input undoes it exactly");
        x[33] = float.PositiveInfinity;
        Assert.That(FixedPointKernels.QuantizeAdd(x, 1.0, q, subtract: false, out _), Is.EqualTo(33));
    }

    [TestCase(0UL, 1)]
    [TestCase(1UL, 2)]
    [TestCase(127UL, 8)]
    [TestCase(128UL, 9)]
    [TestCase(1UL << 47, 49)]
    [TestCase((1UL << 47) - 1, 48)]
    [TestCase(1UL << 62, 64)]
    [TestCase(1UL << 63, 64)]
    public void The_wire_width_is_the_fewest_bits_that_hold_the_largest_sum(ulong maxAbs, int bits) =>
        Assert.That(FixedPointCodec.BitsFor(maxAbs), Is.EqualTo(bits));

    [Test]
    public void The_codec_round_trips_any_sums_with_per_block_widths_and_refuses_malformed_bytes()
    {
        var rng = new Random(12);
        // Blocks of very different magnitudes, the extremes, and a short last block.
        var sums = Enumerable.Range(0, 64 * 5 + 7).Select(i => (i / 64) switch
        {
            0 => (long)rng.Next(-100, 100),
            1 => rng.NextInt64(-(1L << 40), 1L << 40),
            2 => i % 3 == 0 ? long.MaxValue : i % 3 == 1 ? long.MinValue : -1,
            3 => 0,
            _ => rng.NextInt64(-(1L << 20), 1L << 20),
        }).ToArray();

        var bytes = FixedPointCodec.Encode(sums);

        Assert.That(FixedPointCodec.TryDecode(bytes, sums.Length, FixedPointCodec.DefaultBlock, out var back, out _), Is.True);
        Assert.That(back, Is.EqualTo(sums));
        Assert.That(bytes, Has.Length.EqualTo(FixedPointCodec.EncodedLength(sums)));
        // One width byte per block, then 8, 41, 64, 1, 21 and 21 bits per value (the last block holds 7 values).
        Assert.That(bytes, Has.Length.EqualTo(6 + (64 * (8 + 41 + 64 + 1 + 21) / 8) + ((7 * 21) + 7) / 8));
        Assert.That(FixedPointCodec.TryDecode(bytes[..^1], sums.Length, 64, out _, out var truncated), Is.False);
        Assert.That(truncated, Does.Contain("fewer bytes"));
        Assert.That(FixedPointCodec.TryDecode([.. bytes, 0], sums.Length, 64, out _, out var trailing), Is.False);
        Assert.That(trailing, Does.Contain("after the last"));
        Assert.That(FixedPointCodec.TryDecode(bytes, sums.Length, 0, out _, out _), Is.False);
    }

    internal static List<ClientUpdate> Updates(Random rng, int count, int length) =>
        [.. Enumerable.Range(1, count).Select(i => new ClientUpdate(
            (ulong)i, Fixtures.Architecture,
            Enumerable.Range(0, length).Select(_ => (float)(((rng.NextDouble() * 2) - 1) * Math.Pow(10, rng.Next(-5, 1)))).ToArray(),
            rng.Next(1, 1000)))];

    private static PartialAggregate Fold(ModelShape shape, IEnumerable<ClientUpdate> updates, AggregationLimits? limits = null) =>
        Fixtures.Fold(shape, updates, limits ?? Exact);

    /// <summary>Each update folded at its own leaf, then the partials combined one after another up a chain.</summary>
    private static PartialAggregate Chain(ModelShape shape, List<ClientUpdate> updates)
    {
        var acc = PartialAggregate.Empty(shape);
        foreach (var u in updates)
        {
            Assert.That(Fold(shape, [u]).TryCombine(acc, out var next, out _), Is.True);
            acc = next!;
        }

        return acc;
    }

    /// <summary>A balanced tree of the given fan-out: leaves fold groups of updates, every level merges groups of partials.</summary>
    private static PartialAggregate Balanced(ModelShape shape, List<ClientUpdate> updates, int fanOut, AggregationLimits? limits = null)
    {
        var level = updates.Chunk(Math.Max(1, fanOut)).Select(g => Fold(shape, g, limits)).ToList();
        while (level.Count > 1)
        {
            level = [.. level.Chunk(Math.Max(2, fanOut)).Select(g =>
            {
                var acc = new UpdateAccumulator(shape, limits ?? Exact);
                Assert.That(acc.MergeBatch(g), Is.Null);
                return acc.ToPartial();
            })];
        }

        return level[0];
    }

    private static PartialAggregate RandomTree(ModelShape shape, List<ClientUpdate> updates, Random rng)
    {
        if (updates.Count <= 1 || rng.Next(4) == 0)
        {
            return Fold(shape, updates);
        }

        int cut = 1 + rng.Next(updates.Count - 1);
        var left = RandomTree(shape, updates[..cut], rng);
        var right = RandomTree(shape, updates[cut..], rng);
        Assert.That(left.TryCombine(right, out var combined, out _), Is.True);
        return combined!;
    }

    private static int[] Bits(ReadOnlySpan<float> values) => [.. values.ToArray().Select(BitConverter.SingleToInt32Bits)];
}
