using System.Collections.Immutable;
using System.Globalization;

namespace Totoro.Ml.Aggregation;

/// <summary>Checks run before any input touches an aggregate, so a refusal never leaves partial writes.</summary>
internal static class Validation
{
    public static UpdateRejected? CheckUpdate(ClientUpdate update, ModelShape shape, AggregationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(update);
        ulong id = update.ContributorId;
        if (update.ArchitectureId != shape.ArchitectureId)
        {
            return new(id, RejectionReason.ArchitectureMismatch, string.Create(CultureInfo.InvariantCulture,
                $"architecture {update.ArchitectureId:x16} differs from the round's {shape.ArchitectureId:x16}"));
        }

        if (update.Delta.Length != shape.ElementCount)
        {
            return new(id, RejectionReason.ElementCountMismatch, string.Create(CultureInfo.InvariantCulture,
                $"{update.Delta.Length} elements, expected {shape.ElementCount}"));
        }

        if (!(update.Weight > 0 && update.Weight <= limits.MaxWeight))
        {
            return new(id, RejectionReason.WeightOutOfRange, string.Create(CultureInfo.InvariantCulture,
                $"weight {update.Weight} outside (0, {limits.MaxWeight}]"));
        }

        return CheckMetrics(id, update.MetricSums);
    }

    public static UpdateRejected? CheckMetrics(ulong? id, ImmutableSortedDictionary<string, double> metrics)
    {
        foreach (var (name, value) in metrics)
        {
            if (!double.IsFinite(value))
            {
                return new(id, RejectionReason.NonFiniteMetric, $"metric '{name}' is not finite");
            }
        }

        return null;
    }

    public static UpdateRejected NonFinite(ulong? id) =>
        new(id, RejectionReason.NonFiniteValue, "the vector contains NaN or infinity");

    public static UpdateRejected? CheckPartial(
        ModelShape shape,
        ReadOnlySpan<float> mean,
        double totalWeight,
        ImmutableArray<ulong> contributors,
        ImmutableSortedDictionary<string, double> metrics,
        AggregationLimits limits)
    {
        var rejection = CheckLength(shape, mean.Length) ?? CheckContributorsAndWeight(totalWeight, contributors, limits);
        if (rejection is not null)
        {
            return rejection;
        }

        if (!AggregationKernels.AllFinite(mean))
        {
            return NonFinite(null);
        }

        return CheckMetrics(null, metrics);
    }

    /// <summary>
    /// A fixed-point partial from a peer: length, fraction bits, contributors and weight as for a float partial, and
    /// every |sum| possible: each contributor adds at most 2^53 units, and a sum past 2^62 would leave a parent no room.
    /// </summary>
    public static UpdateRejected? CheckFixedPartial(
        ModelShape shape,
        ReadOnlySpan<long> sums,
        int fractionBits,
        double totalWeight,
        ImmutableArray<ulong> contributors,
        ImmutableSortedDictionary<string, double> metrics,
        AggregationLimits limits)
    {
        if (CheckLength(shape, sums.Length) is { } wrongLength)
        {
            return wrongLength;
        }

        if (fractionBits is < FixedPointFormat.MinFractionBits or > FixedPointFormat.MaxFractionBits)
        {
            return new(null, RejectionReason.ValueOutOfRange, string.Create(CultureInfo.InvariantCulture,
                $"fraction bits {fractionBits} outside [{FixedPointFormat.MinFractionBits}, {FixedPointFormat.MaxFractionBits}]"));
        }

        var rejection = CheckContributorsAndWeight(totalWeight, contributors, limits);
        if (rejection is not null)
        {
            return rejection;
        }

        double possible = Math.Min(FixedPointFormat.MaxBound, contributors.Length * FixedPointFormat.MaxQuantized);
        for (int i = 0; i < sums.Length; i++)
        {
            long v = sums[i];
            if (v == long.MinValue || Math.Abs(v) > possible)
            {
                return new(null, RejectionReason.ValueOutOfRange, string.Create(CultureInfo.InvariantCulture,
                    $"coordinate {i}: fixed-point sum {v} is impossible for {contributors.Length} contributors (|sum| ≤ {possible:R})"));
            }
        }

        return CheckMetrics(null, metrics);
    }

    private static UpdateRejected? CheckLength(ModelShape shape, int length) =>
        length == shape.ElementCount
            ? null
            : new(null, RejectionReason.ElementCountMismatch, string.Create(CultureInfo.InvariantCulture,
                $"{length} elements, expected {shape.ElementCount}"));

    private static UpdateRejected? CheckContributorsAndWeight(double totalWeight, ImmutableArray<ulong> contributors, AggregationLimits limits)
    {
        if (contributors.IsDefault)
        {
            return new(null, RejectionReason.DuplicateContributor, "contributor list is missing");
        }

        for (int i = 1; i < contributors.Length; i++)
        {
            if (contributors[i] <= contributors[i - 1])
            {
                return new(null, RejectionReason.DuplicateContributor, "contributor ids are not strictly ascending");
            }
        }

        bool empty = contributors.IsEmpty;
        bool weightOk = empty ? totalWeight == 0 : totalWeight > 0 && totalWeight <= limits.MaxWeight * contributors.Length;
        if (!weightOk)
        {
            return new(null, RejectionReason.WeightOutOfRange, string.Create(CultureInfo.InvariantCulture,
                $"total weight {totalWeight} is impossible for {contributors.Length} contributors of weight ≤ {limits.MaxWeight}"));
        }

        return null;
    }
}
