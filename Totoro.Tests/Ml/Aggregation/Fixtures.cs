using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

/// <summary>Deterministic update generators shared by the aggregation tests.</summary>
internal static class Fixtures
{
    public const ulong Architecture = 0xA11CE;

    public static ModelShape Shape(int length) => new(Architecture, length);

    public static float[] RandomVector(Random rng, int length, float scale = 1f)
    {
        var v = new float[length];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return v;
    }

    public static List<ClientUpdate> RandomUpdates(Random rng, int count, int length)
    {
        var updates = new List<ClientUpdate>(count);
        for (int i = 0; i < count; i++)
        {
            updates.Add(new ClientUpdate((ulong)(i + 1), Architecture, RandomVector(rng, length), rng.Next(1, 500)));
        }

        return updates;
    }

    /// <summary>FedAvg computed the slow, obvious way in float64.</summary>
    public static double[] ReferenceMean(IReadOnlyList<ClientUpdate> updates)
    {
        var sum = new double[updates[0].Delta.Length];
        double total = 0;
        foreach (var u in updates)
        {
            var span = u.Delta.Span;
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += u.Weight * span[i];
            }

            total += u.Weight;
        }

        for (int i = 0; i < sum.Length; i++)
        {
            sum[i] /= total;
        }

        return sum;
    }

    /// <summary>
    /// ‖a − b‖₂ / ‖b‖₂, and +∞ when anything is NaN: NUnit's ordering puts NaN below every number, so a
    /// NaN error would pass an "at most" constraint.
    /// </summary>
    public static double RelativeL2(ReadOnlySpan<float> a, ReadOnlySpan<double> b)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < b.Length; i++)
        {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            norm += b[i] * b[i];
        }

        double relative = Math.Sqrt(diff / norm);
        return double.IsNaN(relative) ? double.PositiveInfinity : relative;
    }

    public static double RelativeL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var wide = new double[b.Length];
        for (int i = 0; i < b.Length; i++)
        {
            wide[i] = b[i];
        }

        return RelativeL2(a, wide);
    }

    /// <summary>The float fold (float64 sums, float32 means): the tests of its blocked kernels and its precision use it.</summary>
    public static AggregationLimits FloatFold { get; } = AggregationLimits.Default with { FixedPoint = null };

    public static PartialAggregate Fold(ModelShape shape, IEnumerable<ClientUpdate> updates, AggregationLimits? limits = null)
    {
        var accumulator = new UpdateAccumulator(shape, limits ?? AggregationLimits.Default);
        foreach (var update in updates)
        {
            Assert.That(accumulator.Accumulate(update), Is.Null);
        }

        return accumulator.ToPartial();
    }
}
