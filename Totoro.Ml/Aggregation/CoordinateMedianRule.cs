namespace Totoro.Ml.Aggregation;

/// <summary>
/// Coordinate-wise median (Yin et al., ICML 2018): tolerates any fraction of Byzantine updates below ½.
/// Sample counts are ignored, as in Flower's FedMedian. Not foldable: the median of medians is not the median.
/// </summary>
public sealed class CoordinateMedianRule : IAggregationRule
{
    private readonly AggregationLimits _limits;

    public CoordinateMedianRule(AggregationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    public string Name => "median";

    public bool IsFoldable => false;

    public AggregationResult Aggregate(ModelShape shape, IReadOnlyList<ClientUpdate> updates, long round)
    {
        var inputs = RobustInputs.Validate(shape, updates, _limits);
        if (inputs.Accepted.Count == 0)
        {
            return inputs.Failure("no update was accepted this round");
        }

        var median = CoordinateWise.Reduce(inputs.Accepted, shape.ElementCount, CoordinateWise.Median);
        return inputs.Success(median, inputs.TotalWeight);
    }
}
