namespace Totoro.Ml.Aggregation;

/// <summary>
/// Bounds an aggregator enforces on every update before it touches the aggregate.
/// <see cref="MaxWeight"/> caps one worker's influence on a weighted mean (a worker claiming 10⁹
/// samples would otherwise own the round).
/// </summary>
public sealed record AggregationLimits
{
    public AggregationLimits(double maxWeight)
    {
        if (!double.IsFinite(maxWeight) || maxWeight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxWeight), maxWeight, "aggregation.max-weight must be finite and > 0");
        }

        MaxWeight = maxWeight;
    }

    public double MaxWeight { get; }

    /// <summary>One million samples per worker per round: far above any edge device's local data.</summary>
    public static AggregationLimits Default { get; } = new(1_000_000);
}
