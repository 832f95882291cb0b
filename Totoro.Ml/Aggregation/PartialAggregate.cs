using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The message an interior tree node forwards to its parent: the fold of its subtree's updates.
/// It is an element of a commutative monoid — <see cref="Empty"/> is the identity and
/// <see cref="TryCombine"/> the operation — so any tree shape and any arrival order yield the same
/// weighted mean at the root (up to float rounding; docs/aggregation.md).
/// <para>
/// The vector is carried as the weighted mean Σwᵢ·Δᵢ / Σwᵢ rather than the raw sum: it has the magnitude
/// of one update, so the float32 wire form can never overflow however many samples were folded; the sum
/// is recovered exactly enough as <see cref="Mean"/> × <see cref="TotalWeight"/> in float64.
/// </para>
/// Instances are immutable: the vector is owned by the instance and exposed read-only.
/// </summary>
public sealed class PartialAggregate
{
    private readonly float[] _mean;

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

    public ModelShape Shape { get; }

    /// <summary>Σwᵢ·Δᵢ / Σwᵢ; all zeros when nothing was folded. For FedAvg this is the round's delta.</summary>
    public ReadOnlyMemory<float> Mean => _mean;

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
        // Parts were validated when they were built, so the update limits play no role here.
        var accumulator = new UpdateAccumulator(shape, AggregationLimits.Default);
        rejection = accumulator.MergeBatch(parts.ToList());
        if (rejection is not null)
        {
            folded = null;
            return false;
        }

        folded = accumulator.ToPartial();
        rejection = null;
        return true;
    }

    /// <summary>A metric's weighted mean (e.g. "loss_sum" → mean loss per sample); NaN when absent or empty.</summary>
    public double MetricMean(string name) =>
        TotalWeight > 0 && MetricSums.TryGetValue(name, out double sum) ? sum / TotalWeight : double.NaN;
}
