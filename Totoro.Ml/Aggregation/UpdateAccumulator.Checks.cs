using System.Collections.Immutable;

namespace Totoro.Ml.Aggregation;

/// <summary>The accumulator's checks (run before any input touches the sums) and its bookkeeping of ids, weight and metrics.</summary>
public sealed partial class UpdateAccumulator
{
    private UpdateRejected? CheckBeforeAdding(ClientUpdate update)
    {
        var rejection = Validation.CheckUpdate(update, Shape, _limits);
        if (rejection is null && _contributors.Contains(update.ContributorId))
        {
            rejection = Duplicate(update.ContributorId);
        }

        return rejection;
    }

    private static UpdateRejected Duplicate(ulong id) =>
        new(id, RejectionReason.DuplicateContributor, "this contributor was already counted in this round");

    private void Commit(ulong contributorId, double weight, ImmutableSortedDictionary<string, double> metrics)
    {
        _contributors.Add(contributorId);
        _totalWeight += weight;
        AddMetrics(metrics);
    }

    private void AddMetrics(IEnumerable<KeyValuePair<string, double>> metrics)
    {
        foreach (var (name, value) in metrics)
        {
            _metrics[name] = _metrics.GetValueOrDefault(name) + value;
        }
    }

    private UpdateRejected? CheckPart(PartialAggregate part, HashSet<ulong> counted)
    {
        if (part.Shape != Shape)
        {
            return part.Shape.ArchitectureId != Shape.ArchitectureId
                ? new(null, RejectionReason.ArchitectureMismatch, "partial aggregate of another architecture")
                : new(null, RejectionReason.ElementCountMismatch, "partial aggregate of another length");
        }

        foreach (ulong id in part.Contributors)
        {
            if (counted.Contains(id))
            {
                return Duplicate(id) with { ContributorId = null };
            }
        }

        // An empty part is the identity in either representation; any other must be in this accumulator's.
        if (part.ContributorCount > 0 && part.FixedPoint != _fixed?.Format)
        {
            return new(null, RejectionReason.ValueOutOfRange, $"partial folded as {Describe(part.FixedPoint)}, this fold is {Describe(_fixed?.Format)}");
        }

        return null;
    }

    private static string Describe(FixedPointFormat? format) => format is null ? "float" : $"fixed point with {format.FractionBits} fraction bits";

    private UpdateRejected? CheckFixedBound(double maxAbs) => _fixed?.CheckBound(null, maxAbs);

    private void CommitPart(PartialAggregate part)
    {
        _totalWeight += part.TotalWeight;
        _contributors.UnionWith(part.Contributors);
        AddMetrics(part.MetricSums);
    }
}
