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
        // ≤ 2⁵³ keeps sample counts exact in float64 and Σ w·x far from float64 overflow for any float32 x.
        if (!(maxWeight > 0 && maxWeight <= MaxExactWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(maxWeight), maxWeight, "aggregation.max-weight must be in (0, 2^53]");
        }

        MaxWeight = maxWeight;
    }

    public const double MaxExactWeight = 9007199254740992.0;

    public double MaxWeight { get; }

    /// <summary>One million samples per worker per round: far above any edge device's local data.</summary>
    public static AggregationLimits Default { get; } = new(1_000_000);
}
