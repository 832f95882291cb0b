using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

public class UpdateAccumulatorTests
{
    private static readonly ModelShape Shape = Fixtures.Shape(40);

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void Non_finite_update_is_rejected_and_leaves_the_aggregate_untouched(float poison)
    {
        var accumulator = new UpdateAccumulator(Shape, AggregationLimits.Default);
        var good = Fixtures.RandomUpdates(new Random(1), 3, 40);
        foreach (var u in good)
        {
            accumulator.Accumulate(u);
        }

        var before = accumulator.ToPartial();
        var bad = Fixtures.RandomVector(new Random(2), 40);
        bad[39] = poison;

        var rejection = accumulator.Accumulate(new ClientUpdate(99, Fixtures.Architecture, bad, 5));

        Assert.That(rejection!.Reason, Is.EqualTo(RejectionReason.NonFiniteValue));
        Assert.That(rejection.ContributorId, Is.EqualTo(99));
        AssertSame(accumulator.ToPartial(), before);
    }

    [Test]
    public void Shape_and_weight_violations_are_typed_rejections_without_writes()
    {
        var limits = new AggregationLimits(1000);
        var accumulator = new UpdateAccumulator(Shape, limits);
        accumulator.Accumulate(new ClientUpdate(1, Fixtures.Architecture, Fixtures.RandomVector(new Random(3), 40), 10));
        var before = accumulator.ToPartial();
        var v = Fixtures.RandomVector(new Random(4), 40);

        var cases = new (ClientUpdate Update, RejectionReason Reason)[]
        {
            (new ClientUpdate(2, Fixtures.Architecture + 1, v, 10), RejectionReason.ArchitectureMismatch),
            (new ClientUpdate(2, Fixtures.Architecture, v.AsMemory(1), 10), RejectionReason.ElementCountMismatch),
            (new ClientUpdate(2, Fixtures.Architecture, v, 0), RejectionReason.WeightOutOfRange),
            (new ClientUpdate(2, Fixtures.Architecture, v, -3), RejectionReason.WeightOutOfRange),
            (new ClientUpdate(2, Fixtures.Architecture, v, 1001), RejectionReason.WeightOutOfRange),
            (new ClientUpdate(2, Fixtures.Architecture, v, double.NaN), RejectionReason.WeightOutOfRange),
            (new ClientUpdate(1, Fixtures.Architecture, v, 10), RejectionReason.DuplicateContributor),
            (new ClientUpdate(2, Fixtures.Architecture, v, 10,
                System.Collections.Immutable.ImmutableSortedDictionary<string, double>.Empty.Add("loss_sum", double.PositiveInfinity)),
                RejectionReason.NonFiniteMetric),
        };

        foreach (var (update, reason) in cases)
        {
            Assert.That(accumulator.Accumulate(update)?.Reason, Is.EqualTo(reason), reason.ToString());
        }

        AssertSame(accumulator.ToPartial(), before);
    }

    [Test]
    public void Batch_accumulation_equals_one_by_one_and_reports_each_bad_update()
    {
        // Longer than one block, with a tail that is not a multiple of the vector width, so both kernel paths run.
        const int length = 70_001;
        var shape = Fixtures.Shape(length);
        var updates = Fixtures.RandomUpdates(new Random(8), 11, length);
        var poisoned = Fixtures.RandomVector(new Random(9), length);
        poisoned[length - 3] = float.NaN;
        var batch = new List<ClientUpdate>(updates)
        {
            new(50, Fixtures.Architecture, poisoned, 4),
            new(51, Fixtures.Architecture, new float[length - 1], 4),
            updates[0] with { Delta = Fixtures.RandomVector(new Random(10), length) },
        };

        var batched = new UpdateAccumulator(shape, Fixtures.FloatFold);
        var rejected = batched.AccumulateBatch(batch);
        var single = Fixtures.Fold(shape, updates, Fixtures.FloatFold);

        Assert.That(rejected.Select(r => (r.ContributorId, r.Reason)), Is.EquivalentTo(new (ulong?, RejectionReason)[]
        {
            (50, RejectionReason.NonFiniteValue),
            (51, RejectionReason.ElementCountMismatch),
            (1, RejectionReason.DuplicateContributor),
        }));
        var result = batched.ToPartial();
        Assert.That(Fixtures.RelativeL2(result.Mean.Span, single.Mean.Span), Is.LessThanOrEqualTo(1e-7));
        Assert.That(result.TotalWeight, Is.EqualTo(single.TotalWeight));
        Assert.That(result.Contributors, Is.EqualTo(single.Contributors));
    }

    [Test]
    public void Huge_finite_values_are_summed_in_float64_not_lost_to_float32_overflow()
    {
        const int length = 100;
        var shape = Fixtures.Shape(length);
        var updates = Enumerable.Range(1, 8)
            .Select(i => new ClientUpdate((ulong)i, Fixtures.Architecture, Fixtures.RandomVector(new Random(i), length, 3e38f), 1000))
            .ToList();
        var accumulator = new UpdateAccumulator(shape, Fixtures.FloatFold);

        Assert.That(accumulator.AccumulateBatch(updates), Is.Empty);
        Assert.That(accumulator.MergeBatch([Fixtures.Fold(shape, updates.Select(u => u with { ContributorId = u.ContributorId + 100 }), Fixtures.FloatFold)]), Is.Null);

        var mean = accumulator.ToPartial().Mean.Span;
        Assert.That(Fixtures.RelativeL2(mean, Fixtures.ReferenceMean(updates)), Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void A_second_batch_adds_to_what_was_already_folded()
    {
        const int length = 1000;
        var shape = Fixtures.Shape(length);
        var updates = Fixtures.RandomUpdates(new Random(11), 10, length);
        var accumulator = new UpdateAccumulator(shape, AggregationLimits.Default);

        Assert.That(accumulator.AccumulateBatch(updates.Take(6).ToList()), Is.Empty);
        Assert.That(accumulator.AccumulateBatch(updates.Skip(6).ToList()), Is.Empty);

        Assert.That(Fixtures.RelativeL2(accumulator.ToPartial().Mean.Span, Fixtures.ReferenceMean(updates)), Is.LessThanOrEqualTo(1e-7));
    }

    [Test]
    public void Merging_partials_in_one_batch_equals_merging_them_one_by_one()
    {
        const int length = 40_000;
        var shape = Fixtures.Shape(length);
        var updates = Fixtures.RandomUpdates(new Random(13), 12, length);
        var parts = Enumerable.Range(0, 6).Select(p => Fixtures.Fold(shape, updates.Where((_, i) => i % 6 == p))).ToList();
        var batched = new UpdateAccumulator(shape, AggregationLimits.Default);
        var single = new UpdateAccumulator(shape, AggregationLimits.Default);

        Assert.That(batched.MergeBatch(parts), Is.Null);
        parts.ForEach(p => Assert.That(single.Merge(p), Is.Null));

        Assert.That(Fixtures.RelativeL2(batched.ToPartial().Mean.Span, single.ToPartial().Mean.Span), Is.LessThanOrEqualTo(1e-7));
        Assert.That(batched.ToPartial().Contributors, Is.EqualTo(single.ToPartial().Contributors));
        Assert.That(batched.TotalWeight, Is.EqualTo(single.TotalWeight));
    }

    [Test]
    public void A_batch_of_partials_with_an_overlap_is_refused_whole()
    {
        var shape = Fixtures.Shape(40);
        var updates = Fixtures.RandomUpdates(new Random(14), 5, 40);
        var accumulator = new UpdateAccumulator(shape, AggregationLimits.Default);
        accumulator.Accumulate(updates[0]);
        var before = accumulator.ToPartial();

        var rejection = accumulator.MergeBatch([Fixtures.Fold(shape, updates.Skip(1).Take(2)), Fixtures.Fold(shape, updates.Skip(2))]);

        Assert.That(rejection!.Reason, Is.EqualTo(RejectionReason.DuplicateContributor));
        AssertSame(accumulator.ToPartial(), before);
    }

    [Test]
    public void Reset_starts_a_new_round()
    {
        var accumulator = new UpdateAccumulator(Shape, AggregationLimits.Default);
        var updates = Fixtures.RandomUpdates(new Random(12), 2, 40);
        accumulator.Accumulate(updates[0]);

        accumulator.Reset();
        accumulator.Accumulate(updates[0]);

        Assert.That(accumulator.ContributorCount, Is.EqualTo(1));
        Assert.That(accumulator.ToPartial().Mean.ToArray(), Is.EqualTo(updates[0].Delta.ToArray()));
    }

    [TestCase(2)]
    [TestCase(3)]
    public void Batch_fold_on_several_threads_is_bit_identical_to_one_thread(int threads)
    {
        // Five 32K-coordinate blocks plus a ragged tail, so every thread gets blocks and one is short.
        const int length = (5 * 32768) + 123;
        var shape = Fixtures.Shape(length);
        var updates = Fixtures.RandomUpdates(new Random(11), 9, length);
        var serial = new UpdateAccumulator(shape, Fixtures.FloatFold with { MaxDegreeOfParallelism = 1 });
        var parallel = new UpdateAccumulator(shape, Fixtures.FloatFold with { MaxDegreeOfParallelism = threads });

        Assert.That(serial.AccumulateBatch(updates), Is.Empty);
        Assert.That(parallel.AccumulateBatch(updates), Is.Empty);

        AssertSame(parallel.ToPartial(), serial.ToPartial());
        Assert.That(Fixtures.RelativeL2(parallel.ToPartial().Mean.Span, Fixtures.ReferenceMean(updates)), Is.LessThan(1e-6));
    }

    [Test]
    public void Batch_fold_on_several_threads_still_rejects_a_poisoned_update_in_a_late_block()
    {
        const int length = (4 * 32768) + 7;
        var shape = Fixtures.Shape(length);
        var updates = Fixtures.RandomUpdates(new Random(12), 6, length);
        var poisoned = Fixtures.RandomVector(new Random(13), length);
        poisoned[length - 3] = float.NaN;
        updates.Add(new ClientUpdate(777, Fixtures.Architecture, poisoned, 4));
        var accumulator = new UpdateAccumulator(shape, Fixtures.FloatFold with { MaxDegreeOfParallelism = 2 });

        var rejected = accumulator.AccumulateBatch(updates);

        Assert.That(rejected.Select(r => (r.ContributorId, r.Reason)), Is.EqualTo(new[] { (777UL, RejectionReason.NonFiniteValue) }));
        Assert.That(accumulator.ContributorCount, Is.EqualTo(6));
        Assert.That(Fixtures.RelativeL2(accumulator.ToPartial().Mean.Span, Fixtures.ReferenceMean(updates.Take(6).ToList())), Is.LessThan(1e-6));
    }

    [Test]
    public void Parallelism_below_one_is_refused_with_the_setting_named()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = AggregationLimits.Default with { MaxDegreeOfParallelism = 0 });
        Assert.That(error!.Message, Does.Contain("max-degree-of-parallelism"));
    }

    private static void AssertSame(PartialAggregate actual, PartialAggregate expected)
    {
        Assert.That(actual.Mean.ToArray(), Is.EqualTo(expected.Mean.ToArray()));
        Assert.That(actual.TotalWeight, Is.EqualTo(expected.TotalWeight));
        Assert.That(actual.Contributors, Is.EqualTo(expected.Contributors));
        Assert.That(actual.MetricSums, Is.EqualTo(expected.MetricSums));
    }
}
