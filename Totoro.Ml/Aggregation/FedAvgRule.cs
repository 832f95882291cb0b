namespace Totoro.Ml.Aggregation;

/// <summary>Gaussian noise for DP-FedAvg: σ = <see cref="NoiseMultiplier"/> × clip norm, added to the sum of clipped updates.</summary>
public sealed record DpNoise(double NoiseMultiplier, ulong Seed);

/// <summary>
/// FedAvg (McMahan et al.): the sample-weighted mean of the deltas. Foldable: interior nodes fold and the
/// root divides. With <c>clipNorm</c> every update is scaled to L2 norm ≤ C where it is folded
/// (Sun et al., norm clipping; still a sum, so still foldable). With <c>noise</c> (DP-FedAvg, which needs
/// a clip norm) every worker weighs 1 — the sum's sensitivity is then C — and the root adds
/// N(0, (z·C)²) per coordinate to the sum before dividing by the number of contributors.
/// FedProx aggregates like FedAvg; its proximal term lives in local training.
/// </summary>
public sealed class FedAvgRule : IFoldableRule
{
    private readonly AggregationLimits _limits;
    private readonly double? _clipNorm;
    private readonly DpNoise? _noise;

    public FedAvgRule(AggregationLimits limits, double? clipNorm = null, DpNoise? noise = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (clipNorm is { } c && !(double.IsFinite(c) && c > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "aggregation.clip-norm must be finite and > 0");
        }

        if (noise is not null)
        {
            if (clipNorm is null)
            {
                throw new ArgumentException("DP noise needs a clip norm: without it the sum's sensitivity is unbounded", nameof(noise));
            }

            if (!(double.IsFinite(noise.NoiseMultiplier) && noise.NoiseMultiplier >= 0))
            {
                throw new ArgumentOutOfRangeException(nameof(noise), noise.NoiseMultiplier, "aggregation.noise-multiplier must be finite and ≥ 0");
            }
        }

        _limits = limits;
        _clipNorm = clipNorm;
        _noise = noise;
    }

    public string Name => (_clipNorm, _noise) switch
    {
        (null, _) => "fedavg",
        (_, null) => "fedavg+clip",
        _ => "dp-fedavg",
    };

    public bool IsFoldable => true;

    public UpdateRejected? Fold(UpdateAccumulator accumulator, ClientUpdate update)
    {
        ArgumentNullException.ThrowIfNull(accumulator);
        ArgumentNullException.ThrowIfNull(update);
        var (weight, coefficient) = Coefficients(update);
        return accumulator.Accumulate(update, weight, coefficient);
    }

    public IReadOnlyList<UpdateRejected> FoldBatch(UpdateAccumulator accumulator, IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(accumulator);
        ArgumentNullException.ThrowIfNull(updates);
        var weights = new double[updates.Count];
        var coefficients = new double[updates.Count];
        for (int i = 0; i < updates.Count; i++)
        {
            (weights[i], coefficients[i]) = Coefficients(updates[i]);
        }

        return accumulator.AccumulateBatch(updates, weights, coefficients);
    }

    public AggregationResult Finish(PartialAggregate total, long round)
    {
        ArgumentNullException.ThrowIfNull(total);
        if (total.ContributorCount == 0)
        {
            return AggregationResult.Failure("no update was accepted this round", []);
        }

        var delta = total.Mean.ToArray();
        if (_noise is { } noise && _clipNorm is { } clip)
        {
            // Noise of std σ on the sum is noise of std σ/n on the mean (n = contributors, each of weight 1).
            double std = noise.NoiseMultiplier * clip / total.ContributorCount;
            var gaussian = GaussianNoise.ForRound(noise.Seed, round);
            for (int i = 0; i < delta.Length; i++)
            {
                delta[i] = (float)(delta[i] + (std * gaussian.NextStandardNormal()));
            }
        }

        return new AggregationResult(delta, total.TotalWeight, total.ContributorCount, total.MetricSums, [], null);
    }

    public AggregationResult Aggregate(ModelShape shape, IReadOnlyList<ClientUpdate> updates, long round)
    {
        var accumulator = new UpdateAccumulator(shape, _limits);
        var rejected = FoldBatch(accumulator, updates);
        var result = Finish(accumulator.ToPartial(), round);
        return result with { Rejected = rejected };
    }

    /// <summary>(weight added to Σw, coefficient applied to Δ) for one update.</summary>
    private (double Weight, double Coefficient) Coefficients(ClientUpdate update)
    {
        double weight = _noise is null ? update.Weight : 1.0;
        if (_clipNorm is not { } clip)
        {
            return (weight, weight);
        }

        // A non-finite norm means a non-finite update; the accumulator refuses it before the coefficient matters.
        double norm = AggregationKernels.Norm(update.Delta.Span);
        double scale = double.IsFinite(norm) && norm > clip ? clip / norm : 1.0;
        return (weight, weight * scale);
    }
}
