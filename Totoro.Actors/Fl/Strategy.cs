using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>The root's aggregation rule.</summary>
public enum RuleKind
{
    FedAvg,
    Median,
    TrimmedMean,
    Krum,
}

/// <summary>The root's server optimizer, applied to the aggregated delta.</summary>
public enum ServerOptimizerKind
{
    Sgd,
    FedAvgM,
    FedAdagrad,
    FedAdam,
    FedYogi,
}

/// <summary>
/// An app's strategy as data (it crosses the wire with the app): the aggregation rule with its parameter
/// (trimmed-mean β, Krum f), optional norm clipping for FedAvg, Multi-Krum's m, and the server optimizer with its
/// learning rate and momentum (FedAvgM β or the adaptive optimizers' β₁). Defaults follow Flower.
/// </summary>
public sealed record Strategy(
    RuleKind Rule,
    double RuleParameter,
    int KrumKeep,
    double? ClipNorm,
    ServerOptimizerKind ServerOptimizer,
    double ServerLearningRate,
    double ServerMomentum)
{
    public static Strategy FedAvg(double? clipNorm = null) => new(RuleKind.FedAvg, 0, 0, clipNorm, ServerOptimizerKind.Sgd, 1.0, 0);

    public static Strategy Median() => new(RuleKind.Median, 0, 0, null, ServerOptimizerKind.Sgd, 1.0, 0);

    public static Strategy TrimmedMean(double beta = 0.2) => new(RuleKind.TrimmedMean, beta, 0, null, ServerOptimizerKind.Sgd, 1.0, 0);

    public static Strategy Krum(int byzantine, int keep = 1) => new(RuleKind.Krum, byzantine, keep, null, ServerOptimizerKind.Sgd, 1.0, 0);

    /// <summary>The same rule with another server optimizer; momentum is FedAvgM's β or the adaptive optimizers' β₁.</summary>
    public Strategy WithServerOptimizer(ServerOptimizerKind kind, double learningRate, double momentum = 0) =>
        this with { ServerOptimizer = kind, ServerLearningRate = learningRate, ServerMomentum = momentum };

    /// <summary>Whether interior nodes may fold updates (a sum) or must relay them raw to the root.</summary>
    public bool IsFoldable => Rule == RuleKind.FedAvg;

    internal IEnumerable<string> Validate()
    {
        if (Rule == RuleKind.TrimmedMean && RuleParameter is < 0 or >= 0.5)
        {
            yield return "Strategy.RuleParameter: trimmed-mean β must be in [0, 0.5)";
        }

        if (Rule == RuleKind.Krum && (RuleParameter < 0 || RuleParameter != Math.Floor(RuleParameter) || KrumKeep < 1))
        {
            yield return "Strategy.RuleParameter: Krum needs a whole f ≥ 0 and KrumKeep ≥ 1";
        }

        if (ClipNorm is { } clip && !(clip > 0))
        {
            yield return "Strategy.ClipNorm: must be positive";
        }

        if (!(ServerLearningRate > 0) || double.IsInfinity(ServerLearningRate))
        {
            yield return "Strategy.ServerLearningRate: must be positive and finite";
        }

        if (ServerMomentum is < 0 or >= 1 || double.IsNaN(ServerMomentum))
        {
            yield return "Strategy.ServerMomentum: must be in [0, 1)";
        }
    }

    internal IAggregationRule CreateRule() => Rule switch
    {
        RuleKind.FedAvg => new FedAvgRule(AggregationLimits.Default, ClipNorm),
        RuleKind.Median => new CoordinateMedianRule(AggregationLimits.Default),
        RuleKind.TrimmedMean => new TrimmedMeanRule(AggregationLimits.Default, RuleParameter),
        _ => new KrumRule(AggregationLimits.Default, (int)RuleParameter, KrumKeep),
    };

    internal IServerOptimizer CreateServerOptimizer() => ServerOptimizer switch
    {
        ServerOptimizerKind.Sgd => new ServerSgd(ServerLearningRate),
        ServerOptimizerKind.FedAvgM => new FedAvgM(ServerLearningRate, ServerMomentum),
        ServerOptimizerKind.FedAdagrad => AdaptiveServerOptimizer.FedAdagrad(ServerLearningRate, ServerMomentum),
        ServerOptimizerKind.FedAdam => AdaptiveServerOptimizer.FedAdam(ServerLearningRate, ServerMomentum),
        _ => AdaptiveServerOptimizer.FedYogi(ServerLearningRate, ServerMomentum),
    };
}
