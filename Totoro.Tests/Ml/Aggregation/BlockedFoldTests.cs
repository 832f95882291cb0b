using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

public class BlockedFoldTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void Eight_input_pass_is_bit_identical_to_two_four_input_passes(bool overwrite)
    {
        const int length = 1000 + 7; // a ragged tail after the Vector512 loop
        var rng = new Random(21);
        var x = Enumerable.Range(0, 8).Select(_ => Fixtures.RandomVector(rng, length)).ToArray();
        double[] w = [3, 17, 1, 250, 9, 42, 0.5, 599];
        var start = Enumerable.Range(0, length).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var fused = (double[])start.Clone();
        var twoPasses = (double[])start.Clone();

        AggregationKernels.AddScaled8(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], w, fused, overwrite);
        AggregationKernels.AddScaled4(x[0], x[1], x[2], x[3], w[0], w[1], w[2], w[3], twoPasses, overwrite);
        AggregationKernels.AddScaled4(x[4], x[5], x[6], x[7], w[4], w[5], w[6], w[7], twoPasses);

        Assert.That(fused, Is.EqualTo(twoPasses));
        if (overwrite)
        {
            // The old contents were ignored, not added.
            var fromZero = new double[length];
            AggregationKernels.AddScaled8(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], w, fromZero);
            Assert.That(fused, Is.EqualTo(fromZero));
        }
    }

    [TestCase(1, 1)]
    [TestCase(15, 2)]
    [TestCase(32768, 1)]
    [TestCase(1_000_000, 1)]
    [TestCase(1_000_000, 2)]
    [TestCase(1_000_003, 3)]
    [TestCase(70_001, 4)]
    public void Partition_covers_the_vector_in_vector_aligned_blocks_shared_evenly(int elements, int threads)
    {
        var (blocks, blockLength) = BlockedFold.Partition(elements, threads);

        Assert.That(blockLength % 16, Is.Zero);
        Assert.That(blockLength, Is.LessThanOrEqualTo(BlockedFold.MaxBlockElements));
        Assert.That((long)blocks * blockLength, Is.GreaterThanOrEqualTo(elements), "covers the vector");
        Assert.That((long)(blocks - 1) * blockLength, Is.LessThan(elements), "no empty block");
        if (elements >= 16 * threads * 4)
        {
            // Equal work per thread up to one block.
            Assert.That(blocks % threads == 0 || blocks > 4 * threads, Is.True, $"{blocks} blocks for {threads} threads");
        }
    }

    [TestCase(13)]
    [TestCase(21)]
    public void Every_pass_width_gives_the_same_bits_on_any_thread_count(int updateCount)
    {
        // 21 = 8 + 8 + 4 + 1 and 13 = 8 + 4 + 1 run the eight-, four- and one-input kernels in every block.
        const int length = (3 * 32768) + 45;
        var shape = Fixtures.Shape(length);
        var updates = Fixtures.RandomUpdates(new Random(22), updateCount, length);
        var means = new[] { 1, 2, 3 }.Select(threads =>
        {
            var accumulator = new UpdateAccumulator(shape, Fixtures.FloatFold with { MaxDegreeOfParallelism = threads });
            Assert.That(accumulator.AccumulateBatch(updates), Is.Empty);
            return accumulator.ToPartial().Mean.ToArray();
        }).ToList();

        Assert.That(means[1], Is.EqualTo(means[0]));
        Assert.That(means[2], Is.EqualTo(means[0]));
        Assert.That(Fixtures.RelativeL2(means[0], Fixtures.ReferenceMean(updates)), Is.LessThan(1e-6));
    }

    [Test]
    public void After_a_reset_nothing_of_the_previous_round_leaks_into_any_path()
    {
        const int length = 40_000;
        var shape = Fixtures.Shape(length);
        var previous = Fixtures.RandomUpdates(new Random(23), 9, length);
        var next = Fixtures.RandomUpdates(new Random(24), 9, length).Select(u => u with { ContributorId = u.ContributorId + 100 }).ToList();
        var accumulator = new UpdateAccumulator(shape, Fixtures.FloatFold with { MaxDegreeOfParallelism = 2 });
        void StartWithPreviousRound()
        {
            accumulator.Reset();
            Assert.That(accumulator.AccumulateBatch(previous), Is.Empty);
            accumulator.Reset();
        }

        // One update: the mean is that update exactly.
        StartWithPreviousRound();
        Assert.That(accumulator.Accumulate(next[0]), Is.Null);
        Assert.That(accumulator.ToPartial().Mean.ToArray(), Is.EqualTo(next[0].Delta.ToArray()));

        // A batch: bit-identical to a fresh accumulator.
        StartWithPreviousRound();
        Assert.That(accumulator.AccumulateBatch(next), Is.Empty);
        var fresh = new UpdateAccumulator(shape, Fixtures.FloatFold with { MaxDegreeOfParallelism = 2 });
        fresh.AccumulateBatch(next);
        Assert.That(accumulator.ToPartial().Mean.ToArray(), Is.EqualTo(fresh.ToPartial().Mean.ToArray()));

        // A merged partial: its mean again.
        var part = Fixtures.Fold(shape, next, Fixtures.FloatFold);
        StartWithPreviousRound();
        Assert.That(accumulator.Merge(part), Is.Null);
        Assert.That(Fixtures.RelativeL2(accumulator.ToPartial().Mean.Span, part.Mean.Span), Is.LessThanOrEqualTo(1e-7));

        // Nothing accepted: zeros, not the stale sums; and the raw sum reads as zeros too.
        StartWithPreviousRound();
        var refused = accumulator.AccumulateBatch([next[0] with { Weight = 0 }]);
        Assert.That(refused.Single().Reason, Is.EqualTo(RejectionReason.WeightOutOfRange));
        Assert.That(accumulator.ToPartial().Mean.ToArray(), Is.All.EqualTo(0f));
        Assert.That(accumulator.Sum.ToArray(), Is.All.EqualTo(0.0));
        Assert.That(accumulator.TotalWeight, Is.Zero);
    }
}
