using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

public class ClippingAndNoiseTests
{
    [FsCheck.NUnit.Property(Replay = "20261121,17", MaxTest = 30)]
    public void Clipping_bounds_each_updates_norm_and_the_mean(int seed)
    {
        var rng = new Random(seed);
        const double clip = 2.0;
        var updates = Enumerable.Range(1, 1 + rng.Next(8))
            .Select(i => new ClientUpdate((ulong)i, Fixtures.Architecture, Fixtures.RandomVector(rng, 64, (float)(rng.NextDouble() * 10)), rng.Next(1, 50)))
            .ToList();
        var rule = new FedAvgRule(AggregationLimits.Default, clipNorm: clip);

        foreach (var update in updates)
        {
            var single = rule.Aggregate(Fixtures.Shape(64), [update], 1);
            double norm = System.Numerics.Tensors.TensorPrimitives.Norm(single.Delta.Span);
            double original = System.Numerics.Tensors.TensorPrimitives.Norm(update.Delta.Span);
            Assert.That(norm, Is.LessThanOrEqualTo(clip * (1 + 1e-6)));
            Assert.That(norm, Is.EqualTo(Math.Min(original, clip)).Within(1e-5).Percent);
        }

        var all = rule.Aggregate(Fixtures.Shape(64), updates, 1);
        Assert.That(System.Numerics.Tensors.TensorPrimitives.Norm(all.Delta.Span), Is.LessThanOrEqualTo(clip * (1 + 1e-6)));
        Assert.That(rule.IsFoldable, Is.True);
    }

    [Test]
    public void Clipped_fold_in_a_tree_equals_clipping_at_the_root()
    {
        var rng = new Random(31);
        var shape = Fixtures.Shape(100);
        var updates = Enumerable.Range(1, 12)
            .Select(i => new ClientUpdate((ulong)i, Fixtures.Architecture, Fixtures.RandomVector(rng, 100, 3), rng.Next(1, 50)))
            .ToList();
        var rule = new FedAvgRule(AggregationLimits.Default, clipNorm: 1.5);
        var left = new UpdateAccumulator(shape, AggregationLimits.Default);
        var right = new UpdateAccumulator(shape, AggregationLimits.Default);
        updates.Take(5).ToList().ForEach(u => rule.Fold(left, u));
        rule.FoldBatch(right, updates.Skip(5).ToList());

        Assert.That(left.ToPartial().TryCombine(right.ToPartial(), out var total, out _), Is.True);
        var tree = rule.Finish(total!, 1);
        var flat = rule.Aggregate(shape, updates, 1);

        Assert.That(Fixtures.RelativeL2(tree.Delta.Span, flat.Delta.Span), Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void Dp_noise_has_std_of_multiplier_times_clip_over_contributors()
    {
        const int length = 200_000;
        const int contributors = 4;
        const double clip = 1.0, multiplier = 1.2;
        var rng = new Random(41);
        var delta = Fixtures.RandomVector(rng, length, 1e-3f);
        var updates = Enumerable.Range(1, contributors)
            .Select(i => new ClientUpdate((ulong)i, Fixtures.Architecture, delta, 10 * i))
            .ToList();
        var rule = new FedAvgRule(AggregationLimits.Default, clipNorm: clip, new DpNoise(multiplier, Seed: 2026));

        var result = rule.Aggregate(Fixtures.Shape(length), updates, round: 3);
        var again = rule.Aggregate(Fixtures.Shape(length), updates, round: 3);
        var nextRound = rule.Aggregate(Fixtures.Shape(length), updates, round: 4);

        double sum = 0, sumSquares = 0;
        var noisy = result.Delta.Span;
        var clean = Fixtures.Fold(Fixtures.Shape(length), updates).Mean.Span;
        for (int i = 0; i < length; i++)
        {
            double noise = noisy[i] - clean[i];
            sum += noise;
            sumSquares += noise * noise;
        }

        double mean = sum / length;
        double std = Math.Sqrt((sumSquares / length) - (mean * mean));
        double expected = multiplier * clip / contributors;
        // The sample std of 200k normals is within 1% of σ with overwhelming probability; 3% is generous.
        Assert.That(std, Is.EqualTo(expected).Within(3).Percent);
        Assert.That(Math.Abs(mean), Is.LessThan(5 * expected / Math.Sqrt(length)));
        Assert.That(result.TotalWeight, Is.EqualTo(contributors), "DP-FedAvg weighs every contributor 1");
        Assert.That(again.Delta.ToArray(), Is.EqualTo(result.Delta.ToArray()), "same seed and round, same noise");
        Assert.That(nextRound.Delta.ToArray(), Is.Not.EqualTo(result.Delta.ToArray()), "a new round draws new noise");
    }

    [Test]
    public void Dp_noise_without_a_clip_norm_is_refused() =>
        Assert.That(() => new FedAvgRule(AggregationLimits.Default, clipNorm: null, new DpNoise(1, 1)), Throws.ArgumentException);
}
