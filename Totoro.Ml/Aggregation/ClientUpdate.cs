using System.Collections.Immutable;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// One worker's contribution to a round: Δ = (locally trained model − round's global model),
/// its weight (normally the number of training samples nᵢ; fractional for staleness-weighted modes)
/// and metric sums that add up across workers (e.g. "loss_sum" = nᵢ·lossᵢ, "correct" = right answers).
/// The aggregation code only reads <see cref="Delta"/> during a call and never keeps it.
/// </summary>
public sealed record ClientUpdate(
    ulong ContributorId,
    ulong ArchitectureId,
    ReadOnlyMemory<float> Delta,
    double Weight,
    ImmutableSortedDictionary<string, double> MetricSums)
{
    public ClientUpdate(ulong contributorId, ulong architectureId, ReadOnlyMemory<float> delta, double weight)
        : this(contributorId, architectureId, delta, weight, ImmutableSortedDictionary<string, double>.Empty)
    {
    }
}
