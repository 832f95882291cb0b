using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

public class PartialAggregateTests
{
    [FsCheck.NUnit.Property(Replay = "20261121,3", MaxTest = 40)]
    public void FedAvg_of_identical_updates_is_the_identity(int seed, byte countSeed)
    {
        var rng = new Random(seed);
        var delta = Fixtures.RandomVector(rng, 97);
        int count = 1 + (countSeed % 12);
        var updates = Enumerable.Range(1, count)
            .Select(i => new ClientUpdate((ulong)i, Fixtures.Architecture, delta, rng.Next(1, 1000)))
            .ToList();

        var result = new FedAvgRule(AggregationLimits.Default).Aggregate(Fixtures.Shape(97), updates, round: 1);

        Assert.That(result.Succeeded, Is.True);
        // Within a few float32 ulps: the batched kernel sums groups of four products in float32.
        var mean = result.Delta.Span;
        for (int i = 0; i < delta.Length; i++)
        {
            Assert.That(mean[i], Is.EqualTo(delta[i]).Within(1e-6 * Math.Abs(delta[i])));
        }

        var oneByOne = Fixtures.Fold(Fixtures.Shape(97), updates).Mean.ToArray();
        Assert.That(oneByOne, Is.EqualTo(delta), "one-by-one sums Σwᵢ·x exactly in float64, so the mean is x itself");
    }

    [FsCheck.NUnit.Property(Replay = "20261121,5", MaxTest = 40)]
    public void Order_of_updates_does_not_matter(int seed)
    {
        var rng = new Random(seed);
        var updates = Fixtures.RandomUpdates(rng, 1 + rng.Next(20), 131);
        var shuffled = updates.OrderBy(_ => rng.Next()).ToList();

        var a = Fixtures.Fold(Fixtures.Shape(131), updates);
        var b = Fixtures.Fold(Fixtures.Shape(131), shuffled);

        Assert.That(Fixtures.RelativeL2(a.Mean.Span, b.Mean.Span), Is.LessThanOrEqualTo(1e-6));
        Assert.That(a.TotalWeight, Is.EqualTo(b.TotalWeight));
        Assert.That(a.Contributors, Is.EqualTo(b.Contributors));
    }

    [FsCheck.NUnit.Property(Replay = "20261121,7", MaxTest = 60)]
    public void Fold_over_any_tree_shape_equals_the_flat_weighted_mean(int seed)
    {
        var rng = new Random(seed);
        int length = 1 + rng.Next(300);
        var shape = Fixtures.Shape(length);
        var updates = Fixtures.RandomUpdates(rng, 1 + rng.Next(60), length);

        var tree = FoldAsRandomTree(shape, updates, rng);
        var flat = Fixtures.ReferenceMean(updates);

        Assert.That(Fixtures.RelativeL2(tree.Mean.Span, flat), Is.LessThanOrEqualTo(1e-6));
        Assert.That(tree.TotalWeight, Is.EqualTo(updates.Sum(u => u.Weight)));
        Assert.That(tree.ContributorCount, Is.EqualTo(updates.Count));
    }

    [FsCheck.NUnit.Property(Replay = "20261121,9", MaxTest = 40)]
    public void Combine_is_commutative_and_associative(int seed)
    {
        var rng = new Random(seed);
        var shape = Fixtures.Shape(64);
        var updates = Fixtures.RandomUpdates(rng, 9, 64);
        var a = Fixtures.Fold(shape, updates.Take(3));
        var b = Fixtures.Fold(shape, updates.Skip(3).Take(3));
        var c = Fixtures.Fold(shape, updates.Skip(6));

        Assert.That(a.TryCombine(b, out var ab, out _), Is.True);
        Assert.That(b.TryCombine(a, out var ba, out _), Is.True);
        Assert.That(ab!.TryCombine(c, out var abc1, out _), Is.True);
        Assert.That(b.TryCombine(c, out var bc, out _), Is.True);
        Assert.That(a.TryCombine(bc!, out var abc2, out _), Is.True);

        // Equal up to float64 rounding of the two FMA orders, which the float32 result almost always hides.
        Assert.That(Fixtures.RelativeL2(ab.Mean.Span, ba!.Mean.Span), Is.LessThanOrEqualTo(1e-7));
        Assert.That(ab.Contributors, Is.EqualTo(ba.Contributors));
        Assert.That(ab.TotalWeight, Is.EqualTo(ba.TotalWeight));
        Assert.That(Fixtures.RelativeL2(abc1!.Mean.Span, abc2!.Mean.Span), Is.LessThanOrEqualTo(1e-6));
        Assert.That(abc1.MetricSums, Is.EqualTo(abc2.MetricSums));
    }

    [Test]
    public void Empty_is_the_identity_of_combine()
    {
        var shape = Fixtures.Shape(33);
        var part = Fixtures.Fold(shape, Fixtures.RandomUpdates(new Random(5), 4, 33));

        Assert.That(part.TryCombine(PartialAggregate.Empty(shape), out var combined, out _), Is.True);

        Assert.That(combined!.Mean.ToArray(), Is.EqualTo(part.Mean.ToArray()));
        Assert.That(combined.TotalWeight, Is.EqualTo(part.TotalWeight));
        Assert.That(combined.Contributors, Is.EqualTo(part.Contributors));
    }

    [Test]
    public void Combine_refuses_overlapping_contributors_and_other_shapes()
    {
        var shape = Fixtures.Shape(8);
        var updates = Fixtures.RandomUpdates(new Random(6), 3, 8);
        var a = Fixtures.Fold(shape, updates.Take(2));
        var b = Fixtures.Fold(shape, updates.Skip(1));
        var other = PartialAggregate.Empty(new ModelShape(Fixtures.Architecture, 9));

        Assert.That(a.TryCombine(b, out _, out var overlap), Is.False);
        Assert.That(overlap!.Reason, Is.EqualTo(RejectionReason.DuplicateContributor));
        Assert.That(a.TryCombine(other, out _, out var mismatch), Is.False);
        Assert.That(mismatch!.Reason, Is.EqualTo(RejectionReason.ElementCountMismatch));
    }

    [Test]
    public void Metric_sums_add_up_and_give_weighted_means()
    {
        var shape = Fixtures.Shape(2);
        var u1 = new ClientUpdate(1, Fixtures.Architecture, new float[2], 10,
            System.Collections.Immutable.ImmutableSortedDictionary<string, double>.Empty.Add("loss_sum", 10 * 0.5).Add("correct", 7));
        var u2 = new ClientUpdate(2, Fixtures.Architecture, new float[2], 30,
            System.Collections.Immutable.ImmutableSortedDictionary<string, double>.Empty.Add("loss_sum", 30 * 0.1).Add("correct", 25));

        var part = Fixtures.Fold(shape, [u1, u2]);

        Assert.That(part.MetricSums["correct"], Is.EqualTo(32));
        Assert.That(part.MetricMean("loss_sum"), Is.EqualTo(0.2).Within(1e-12));
    }

    [Test]
    public void TryCreate_refuses_wire_fields_a_peer_could_forge()
    {
        var shape = Fixtures.Shape(3);
        var metrics = System.Collections.Immutable.ImmutableSortedDictionary<string, double>.Empty;
        var limits = new AggregationLimits(100);

        Assert.That(PartialAggregate.TryCreate(shape, [1, 2, 3], 150, [2, 1], metrics, limits, out _, out var unsorted), Is.False);
        Assert.That(unsorted!.Reason, Is.EqualTo(RejectionReason.DuplicateContributor));
        Assert.That(PartialAggregate.TryCreate(shape, [1, 2, 3], 250, [1, 2], metrics, limits, out _, out var heavy), Is.False);
        Assert.That(heavy!.Reason, Is.EqualTo(RejectionReason.WeightOutOfRange));
        Assert.That(PartialAggregate.TryCreate(shape, [1, float.NaN, 3], 150, [1, 2], metrics, limits, out _, out var nan), Is.False);
        Assert.That(nan!.Reason, Is.EqualTo(RejectionReason.NonFiniteValue));
        Assert.That(PartialAggregate.TryCreate(shape, [1, 2, 3], 150, [1, 2], metrics, limits, out var ok, out _), Is.True);
        Assert.That(ok!.Mean.ToArray(), Is.EqualTo(new float[] { 1, 2, 3 }));
    }

    /// <summary>
    /// Why the accumulator sums in float64: a float32 running sum's error grows with fan-in, while folding
    /// with float64 sums stays at one float32 rounding per tree level.
    /// </summary>
    [Test]
    public void Float64_accumulation_stays_accurate_where_a_float32_running_sum_drifts()
    {
        var rng = new Random(7);
        const int length = 4096;
        var updates = Fixtures.RandomUpdates(rng, 2000, length);
        var reference = Fixtures.ReferenceMean(updates);

        var float32Sum = new float[length];
        float totalWeight = 0;
        foreach (var u in updates)
        {
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(u.Delta.Span, (float)u.Weight, float32Sum, float32Sum);
            totalWeight += (float)u.Weight;
        }

        System.Numerics.Tensors.TensorPrimitives.Divide(float32Sum, totalWeight, float32Sum);
        double float32Error = Fixtures.RelativeL2(float32Sum, reference);
        double accumulatorError = Fixtures.RelativeL2(Fixtures.Fold(Fixtures.Shape(length), updates).Mean.Span, reference);
        var batched = new UpdateAccumulator(Fixtures.Shape(length), Fixtures.FloatFold);
        batched.AccumulateBatch(updates);
        double batchError = Fixtures.RelativeL2(batched.ToPartial().Mean.Span, reference);
        TestContext.Out.WriteLine(
            $"relative L2 error over 2000 updates: float32 running sum {float32Error:E2}, float64 accumulator {accumulatorError:E2}, batched (float32 groups of 4) {batchError:E2}");

        Assert.That(accumulatorError, Is.LessThan(1e-7));
        Assert.That(batchError, Is.LessThan(1e-7));
        Assert.That(float32Error, Is.GreaterThan(10 * accumulatorError));
    }

    private static PartialAggregate FoldAsRandomTree(ModelShape shape, List<ClientUpdate> updates, Random rng)
    {
        if (updates.Count <= 1 || rng.Next(4) == 0)
        {
            return Fixtures.Fold(shape, updates);
        }

        int children = 2 + rng.Next(Math.Min(4, updates.Count - 1));
        var cuts = Enumerable.Range(1, updates.Count - 1).OrderBy(_ => rng.Next()).Take(children - 1).Order().ToList();
        var parts = new List<PartialAggregate>();
        int start = 0;
        foreach (int cut in cuts.Append(updates.Count))
        {
            parts.Add(FoldAsRandomTree(shape, updates.GetRange(start, cut - start), rng));
            start = cut;
        }

        // Children's partials reach an interior node in any order.
        Assert.That(PartialAggregate.TryFold(shape, parts.OrderBy(_ => rng.Next()), out var folded, out var rejection), Is.True, rejection?.Detail);
        return folded!;
    }
}
