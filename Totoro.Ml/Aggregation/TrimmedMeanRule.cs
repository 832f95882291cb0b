using System.Globalization;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// Coordinate-wise trimmed mean (Yin et al.): per coordinate drop the ⌊βn⌋ smallest and ⌊βn⌋ largest
/// values and average the rest (Flower's FedTrimmedAvg, default β = 0.2). Unweighted; not foldable.
/// </summary>
public sealed class TrimmedMeanRule : IAggregationRule
{
    private readonly AggregationLimits _limits;

    public TrimmedMeanRule(AggregationLimits limits, double beta = 0.2)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (!(beta >= 0 && beta < 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "aggregation.trim-beta must be in [0, 0.5)");
        }

        _limits = limits;
        Beta = beta;
    }

    public double Beta { get; }

    public string Name => "trimmed-mean";

    public bool IsFoldable => false;

    public AggregationResult Aggregate(ModelShape shape, IReadOnlyList<ClientUpdate> updates, long round)
    {
        var inputs = RobustInputs.Validate(shape, updates, _limits);
        int n = inputs.Accepted.Count;
        int cut = (int)Math.Floor(Beta * n);
        if (n == 0 || 2 * cut >= n)
        {
            return inputs.Failure(string.Create(CultureInfo.InvariantCulture, $"trimmed mean with beta {Beta} needs 2*floor(beta*n) < n; n = {n}"));
        }

        var mean = CoordinateWise.Reduce(inputs.Accepted, shape.ElementCount, values => CoordinateWise.TrimmedMean(values, cut));
        return inputs.Success(mean, inputs.TotalWeight);
    }
}
