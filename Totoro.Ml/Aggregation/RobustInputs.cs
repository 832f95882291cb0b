using System.Collections.Immutable;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The accepted updates of a non-foldable round: each one validated exactly as the accumulator would
/// (shape, weight bounds, finite values and metrics, one update per contributor).
/// </summary>
internal sealed class RobustInputs
{
    private RobustInputs(List<ClientUpdate> accepted, List<UpdateRejected> rejected, ImmutableSortedDictionary<string, double> metricSums)
    {
        Accepted = accepted;
        Rejected = rejected;
        MetricSums = metricSums;
    }

    public List<ClientUpdate> Accepted { get; }

    public List<UpdateRejected> Rejected { get; }

    public ImmutableSortedDictionary<string, double> MetricSums { get; }

    public double TotalWeight => Accepted.Sum(u => u.Weight);

    public static RobustInputs Validate(ModelShape shape, IReadOnlyList<ClientUpdate> updates, AggregationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var accepted = new List<ClientUpdate>(updates.Count);
        var rejected = new List<UpdateRejected>();
        var seen = new HashSet<ulong>();
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var update in updates)
        {
            var rejection = Validation.CheckUpdate(update, shape, limits);
            if (rejection is null && !AggregationKernels.AllFinite(update.Delta.Span))
            {
                rejection = Validation.NonFinite(update.ContributorId);
            }

            if (rejection is null && !seen.Add(update.ContributorId))
            {
                rejection = new(update.ContributorId, RejectionReason.DuplicateContributor, "two updates from one contributor");
            }

            if (rejection is not null)
            {
                rejected.Add(rejection);
                continue;
            }

            accepted.Add(update);
            foreach (var (name, value) in update.MetricSums)
            {
                metrics[name] = metrics.GetValueOrDefault(name) + value;
            }
        }

        return new RobustInputs(accepted, rejected, metrics.ToImmutableSortedDictionary(StringComparer.Ordinal));
    }

    public AggregationResult Success(float[] delta, double totalWeight) =>
        new(delta, totalWeight, Accepted.Count, MetricSums, Rejected, null);

    public AggregationResult Failure(string error) => AggregationResult.Failure(error, Rejected);
}
