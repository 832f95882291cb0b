using System.Collections.Immutable;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// A round's aggregate at the root: the delta to hand to the server optimizer, how many updates were
/// used and which were refused. <see cref="Error"/> is set (and <see cref="Delta"/> empty) when the rule's
/// preconditions fail, e.g. Krum with too few updates for its f.
/// </summary>
public sealed record AggregationResult(
    ReadOnlyMemory<float> Delta,
    double TotalWeight,
    int ContributorCount,
    ImmutableSortedDictionary<string, double> MetricSums,
    IReadOnlyList<UpdateRejected> Rejected,
    string? Error)
{
    public bool Succeeded => Error is null;

    internal static AggregationResult Failure(string error, IReadOnlyList<UpdateRejected> rejected) =>
        new(ReadOnlyMemory<float>.Empty, 0, 0, ImmutableSortedDictionary<string, double>.Empty, rejected, error);
}
