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

    /// <summary>
    /// Threads a batch fold may use. Blocks of coordinates are independent and each is summed by one thread
    /// in a fixed order, so the result is bit-identical for any value; more threads only buy memory bandwidth
    /// (one core cannot saturate the memory bus on its own).
    /// </summary>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "aggregation.max-degree-of-parallelism must be at least 1");
            }

            _maxDegreeOfParallelism = value;
        }
    }

    private readonly int _maxDegreeOfParallelism = Environment.ProcessorCount;

    /// <summary>
    /// How foldable sums are kept: integer fixed point in this format (the default: the fold is exact, so every tree
    /// shape and order gives the flat fold's bits), or null for the float fold (float64 sums, a float32 mean per
    /// partial, equal to the flat fold up to rounding). docs/aggregation.md §1.
    /// </summary>
    public FixedPointFormat? FixedPoint { get; init; } = FixedPointFormat.Default;

    /// <summary>One million samples per worker per round: far above any edge device's local data.</summary>
    public static AggregationLimits Default { get; } = new(1_000_000);
}
