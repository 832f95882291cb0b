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
        if (mean.Length != shape.ElementCount)
        {
            return new(null, RejectionReason.ElementCountMismatch, string.Create(CultureInfo.InvariantCulture,
                $"{mean.Length} elements, expected {shape.ElementCount}"));
        }

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

        if (!AggregationKernels.AllFinite(mean))
        {
            return NonFinite(null);
        }

        return CheckMetrics(null, metrics);
    }
}
