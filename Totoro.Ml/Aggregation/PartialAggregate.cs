using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The message an interior tree node forwards to its parent: the fold of its subtree's updates.
/// It is an element of a commutative monoid — <see cref="Empty"/> is the identity and
/// <see cref="TryCombine"/> the operation — so any tree shape and any arrival order yield the same
/// weighted mean at the root. With a <see cref="FixedPointFormat"/> (the default) the vector is an integer sum and
/// the root's mean is bit-identical for every tree shape and order; with the float fold it is equal up to float
/// rounding (docs/aggregation.md).
/// <para>
/// Fixed point: <see cref="FixedSums"/> holds Σ RNE(cᵢ·Δᵢ·2^F) as int64 and <see cref="Mean"/> is derived from it once,
/// on first use. Float: the vector is carried as below.
/// </para>
/// <para>
/// The vector is carried as the weighted mean Σwᵢ·Δᵢ / Σwᵢ rather than the raw sum: it has the magnitude
/// of one update, so the float32 wire form can never overflow however many samples were folded; the sum
/// is recovered exactly enough as <see cref="Mean"/> × <see cref="TotalWeight"/> in float64.
/// </para>
/// Instances are immutable: the vector is owned by the instance and exposed read-only.
/// </summary>
public sealed class PartialAggregate
{
    private readonly long[]? _fixedSums;

    // Fixed point: derived on first use. Two threads that race here compute the same array, so either may win.
    private float[]? _mean;
    private int? _vectorWireBytes;

    internal PartialAggregate(
        ModelShape shape,
        float[] ownedMean,
        double totalWeight,
        ImmutableArray<ulong> sortedContributors,
        ImmutableSortedDictionary<string, double> metricSums)
    {
        Shape = shape;
        _mean = ownedMean;
        TotalWeight = totalWeight;
        Contributors = sortedContributors;
        MetricSums = metricSums;
    }

    internal PartialAggregate(
        ModelShape shape,
        long[] ownedSums,
        FixedPointFormat format,
        double totalWeight,
        ImmutableArray<ulong> sortedContributors,
        ImmutableSortedDictionary<string, double> metricSums)
    {
        Shape = shape;
        _fixedSums = ownedSums;
        FixedPoint = format;
        MaxAbsFixedSum = FixedPointKernels.MaxAbs(ownedSums);
        TotalWeight = totalWeight;
        Contributors = sortedContributors;
        MetricSums = metricSums;
    }

    public ModelShape Shape { get; }

    /// <summary>
    /// Σwᵢ·Δᵢ / Σwᵢ; all zeros when nothing was folded. For FedAvg this is the round's delta. Fixed point: the integer
    /// sum dequantized once, (float)(ΣQ · 2^−F / W), so equal sums give equal bits.
    /// </summary>
    public ReadOnlyMemory<float> Mean => _mean ??= Dequantize();

    /// <summary>The format of <see cref="FixedSums"/>; null for a float partial (the vector is then <see cref="Mean"/> itself).</summary>
    public FixedPointFormat? FixedPoint { get; }

    /// <summary>Fixed point: Σ RNE(cᵢ·Δᵢⱼ·2^F) per coordinate; empty for a float partial.</summary>
    public ReadOnlyMemory<long> FixedSums => _fixedSums;

    /// <summary>max |<see cref="FixedSums"/>|: a parent's overflow bound, and the wire width.</summary>
    public ulong MaxAbsFixedSum { get; }

    /// <summary>Bytes of the vector on the wire: 4 per coordinate (float32), or <see cref="FixedPointCodec"/>'s per-block widths.</summary>
    public int VectorWireBytes => _vectorWireBytes ??= FixedPoint is null ? Shape.ElementCount * sizeof(float) : FixedPointCodec.EncodedLength(_fixedSums);

    /// <summary>Σwᵢ (Σnᵢ for sample weighting).</summary>
    public double TotalWeight { get; }

    /// <summary>Distinct contributor ids in ascending order; lets a parent refuse a subtree it already counted.</summary>
    public ImmutableArray<ulong> Contributors { get; }

    public int ContributorCount => Contributors.Length;

    /// <summary>Named sums that add across workers (e.g. Σnᵢ·lossᵢ, Σ correct).</summary>
    public ImmutableSortedDictionary<string, double> MetricSums { get; }

    /// <summary>The identity: folding it changes nothing.</summary>
    public static PartialAggregate Empty(ModelShape shape) =>
        new(shape, new float[shape.ElementCount], 0, [], ImmutableSortedDictionary<string, double>.Empty);

    /// <summary>
    /// Builds a partial aggregate from decoded wire fields, copying <paramref name="mean"/>. Every field a
    /// peer controls is checked: finite vector and metrics, weight within <paramref name="limits"/> per
    /// contributor, contributors strictly ascending.
    /// </summary>
    public static bool TryCreate(
        ModelShape shape,
        ReadOnlySpan<float> mean,
        double totalWeight,
        ImmutableArray<ulong> sortedContributors,
        ImmutableSortedDictionary<string, double> metricSums,
        AggregationLimits limits,
        [NotNullWhen(true)] out PartialAggregate? aggregate,
        [NotNullWhen(false)] out UpdateRejected? rejection)
    {
        ArgumentNullException.ThrowIfNull(metricSums);
        ArgumentNullException.ThrowIfNull(limits);
        aggregate = null;
        rejection = Validation.CheckPartial(shape, mean, totalWeight, sortedContributors, metricSums, limits);
        if (rejection is not null)
        {
            return false;
        }

        aggregate = new PartialAggregate(shape, mean.ToArray(), totalWeight, sortedContributors, metricSums);
        return true;
    }

    /// <summary>
    /// Builds a fixed-point partial from decoded wire fields, copying <paramref name="sums"/>. Checked like
    /// <see cref="TryCreate"/>, plus: the fraction bits are in range and no sum exceeds what its contributors could
    /// have produced (|sum| ≤ n·2^53, and ≤ 2^62).
    /// </summary>
    public static bool TryCreateFixed(
        ModelShape shape,
        ReadOnlySpan<long> sums,
        int fractionBits,
        double totalWeight,
        ImmutableArray<ulong> sortedContributors,
        ImmutableSortedDictionary<string, double> metricSums,
        AggregationLimits limits,
        [NotNullWhen(true)] out PartialAggregate? aggregate,
        [NotNullWhen(false)] out UpdateRejected? rejection)
    {
        ArgumentNullException.ThrowIfNull(metricSums);
        ArgumentNullException.ThrowIfNull(limits);
        aggregate = null;
        rejection = Validation.CheckFixedPartial(shape, sums, fractionBits, totalWeight, sortedContributors, metricSums, limits);
        if (rejection is not null)
        {
            return false;
        }

        aggregate = new PartialAggregate(shape, sums.ToArray(), new FixedPointFormat(fractionBits), totalWeight, sortedContributors, metricSums);
        return true;
    }

    /// <summary>
    /// The monoid operation. Refuses (and returns no result) when shapes differ or the two sides share a
    /// contributor, because adding a worker twice would double its weight.
    /// </summary>
    public bool TryCombine(
        PartialAggregate other,
        [NotNullWhen(true)] out PartialAggregate? combined,
        [NotNullWhen(false)] out UpdateRejected? rejection) =>
        TryFold(Shape, [this, other], out combined, out rejection);

    /// <summary>
    /// Folds many parts in one blocked pass with float64 sums (one rounding to float32 at the end, not one
    /// per pair). All or nothing: any refused part fails the whole fold.
    /// </summary>
    public static bool TryFold(
        ModelShape shape,
        IEnumerable<PartialAggregate> parts,
        [NotNullWhen(true)] out PartialAggregate? folded,
        [NotNullWhen(false)] out UpdateRejected? rejection)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var list = parts.ToList();
        // Parts were validated when they were built, so the update limits play no role here; the representation is
        // the parts' own (an empty part is the identity in either).
        var format = list.FirstOrDefault(p => p.ContributorCount > 0)?.FixedPoint;
        var accumulator = new UpdateAccumulator(shape, AggregationLimits.Default with { FixedPoint = format });
        rejection = accumulator.MergeBatch(list);
        if (rejection is not null)
        {
            folded = null;
            return false;
        }

        folded = accumulator.ToPartial();
        rejection = null;
        return true;
    }

    private float[] Dequantize()
    {
        var mean = new float[Shape.ElementCount];
        if (_fixedSums is not null && TotalWeight > 0)
        {
            FixedPointKernels.Dequantize(_fixedSums, Math.ScaleB(1.0, -FixedPoint!.FractionBits) / TotalWeight, mean);
        }

        return mean;
    }

    /// <summary>A metric's weighted mean (e.g. "loss_sum" → mean loss per sample); NaN when absent or empty.</summary>
    public double MetricMean(string name) =>
        TotalWeight > 0 && MetricSums.TryGetValue(name, out double sum) ? sum / TotalWeight : double.NaN;
}
