using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The mutable hot-path accumulator of one (application, round) at one node: Σwᵢ·Δᵢ in float64,
/// Σwᵢ, the contributor set and metric sums. Every input is validated completely before it is added,
/// so a refused input leaves the accumulator exactly as it was. With <see cref="AggregationLimits.FixedPoint"/> set
/// (the default) the vector sum is integer fixed point instead (<see cref="FixedPointSums"/>): every input is
/// quantized once and the fold is exact in any order; otherwise it is float64.
/// <para>
/// Ownership: the accumulator owns its buffers and is not thread-safe (one actor owns it). It reads an
/// update's <see cref="ClientUpdate.Delta"/> only during the call. <see cref="ToPartial"/> returns an
/// independent immutable snapshot; the accumulator stays usable.
/// </para>
/// </summary>
public sealed partial class UpdateAccumulator
{
    private readonly AggregationLimits _limits;
    private readonly HashSet<ulong> _contributors = [];
    private readonly SortedDictionary<string, double> _metrics = new(StringComparer.Ordinal);
    private readonly FixedPointSums? _fixed;
    private double[] _sum;
    private double[]? _batchScratch;
    private double _totalWeight;

    /// <summary>
    /// True when <see cref="_sum"/> is to be read as all zeros whatever it holds: <see cref="Reset"/> only sets
    /// this flag, so starting a round costs no pass over the float64 sums; the next write clears or overwrites.
    /// </summary>
    private bool _sumIsZero = true;

    public UpdateAccumulator(ModelShape shape, AggregationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfNegative(shape.ElementCount);
        Shape = shape;
        _limits = limits;
        _fixed = limits.FixedPoint is { } format ? new FixedPointSums(format, shape.ElementCount) : null;
        _sum = _fixed is null ? new double[shape.ElementCount] : [];
    }

    public ModelShape Shape { get; }

    public double TotalWeight => _totalWeight;

    public int ContributorCount => _contributors.Count;

    /// <summary>Adds wᵢ·Δᵢ with wᵢ = <see cref="ClientUpdate.Weight"/>. Returns null when accepted.</summary>
    public UpdateRejected? Accumulate(ClientUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return Accumulate(update, update.Weight, update.Weight);
    }

    /// <summary>
    /// Adds <paramref name="coefficient"/>·Δ to the vector sum and <paramref name="weight"/> to Σw: rules
    /// that clip (coefficient = wᵢ·scale) or weigh uniformly (weight = coefficient = 1) use this.
    /// The update's own weight is still bounds-checked.
    /// </summary>
    internal UpdateRejected? Accumulate(ClientUpdate update, double weight, double coefficient)
    {
        var rejection = CheckBeforeAdding(update);
        if (rejection is not null)
        {
            return rejection;
        }

        if (_fixed is not null)
        {
            rejection = _fixed.Add(update.ContributorId, update.Delta.Span, coefficient);
            if (rejection is not null)
            {
                return rejection;
            }

            Commit(update.ContributorId, weight, update.MetricSums);
            return null;
        }

        // A separate validation pass: folding the check into the FMA loop would discover a bad value only
        // after earlier elements were written, and float64 adds cannot be undone exactly.
        if (!AggregationKernels.AllFinite(update.Delta.Span))
        {
            return Validation.NonFinite(update.ContributorId);
        }

        AggregationKernels.AddScaled(update.Delta.Span, coefficient, LiveSum());
        Commit(update.ContributorId, weight, update.MetricSums);
        return null;
    }

    /// <summary>
    /// Adds many updates in one pass over memory: the vector is processed in L2-sized blocks and every
    /// update streams through each block, four at a time. Refused updates are returned and left out;
    /// the accepted ones are added as if by <see cref="Accumulate(ClientUpdate)"/> one by one.
    /// </summary>
    public IReadOnlyList<UpdateRejected> AccumulateBatch(IReadOnlyList<ClientUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var weights = new double[updates.Count];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = updates[i].Weight;
        }

        return AccumulateBatch(updates, weights, weights);
    }

    internal IReadOnlyList<UpdateRejected> AccumulateBatch(
        IReadOnlyList<ClientUpdate> updates, double[] weights, double[] coefficients)
    {
        if (_fixed is not null)
        {
            // Integer sums are exact in any order, so one input at a time loses nothing but the blocked float path's speed.
            var refused = new List<UpdateRejected>();
            for (int i = 0; i < updates.Count; i++)
            {
                if (Accumulate(updates[i], weights[i], coefficients[i]) is { } rejection)
                {
                    refused.Add(rejection);
                }
            }

            return refused;
        }

        var rejected = new List<UpdateRejected>();
        var accepted = new List<int>(updates.Count);
        var seen = new HashSet<ulong>();
        for (int i = 0; i < updates.Count; i++)
        {
            var rejection = CheckBeforeAdding(updates[i]);
            if (rejection is null && !seen.Add(updates[i].ContributorId))
            {
                rejection = Duplicate(updates[i].ContributorId);
            }

            if (rejection is null)
            {
                accepted.Add(i);
            }
            else
            {
                rejected.Add(rejection);
            }
        }

        // Non-finite inputs poison the block sums (w·∞ and ∞−∞ stay non-finite), so one cheap check per
        // L2-resident block replaces a validation pass over every input; only a poisoned batch pays for
        // finding the culprits and summing again without them — in pure float64 this time, because huge
        // finite inputs can also overflow the fast path's float32 group sums.
        if (accepted.Count == 0)
        {
            return rejected;
        }

        if (!SumIntoScratch(accepted.Select(i => updates[i].Delta).ToList(), accepted.Select(i => coefficients[i]).ToArray(), wide: false))
        {
            for (int k = accepted.Count - 1; k >= 0; k--)
            {
                var update = updates[accepted[k]];
                if (!AggregationKernels.AllFinite(update.Delta.Span))
                {
                    rejected.Add(Validation.NonFinite(update.ContributorId));
                    accepted.RemoveAt(k);
                }
            }

            SumIntoScratch(accepted.Select(i => updates[i].Delta).ToList(), accepted.Select(i => coefficients[i]).ToArray(), wide: true);
        }

        if (accepted.Count > 0)
        {
            CommitScratch();
        }

        foreach (int i in accepted)
        {
            Commit(updates[i].ContributorId, weights[i], updates[i].MetricSums);
        }

        return rejected;
    }

    /// <summary>Folds a child's partial aggregate in. Returns null when accepted.</summary>
    public UpdateRejected? Merge(PartialAggregate part)
    {
        ArgumentNullException.ThrowIfNull(part);
        var rejection = CheckPart(part, _contributors) ?? CheckFixedBound(part.ContributorCount == 0 ? 0 : part.MaxAbsFixedSum);
        if (rejection is not null)
        {
            return rejection;
        }

        if (_fixed is not null)
        {
            if (part.ContributorCount > 0)
            {
                _fixed.Add(part.FixedSums.Span, part.MaxAbsFixedSum);
            }
        }
        else if (part.TotalWeight > 0)
        {
            AggregationKernels.AddScaled(part.Mean.Span, part.TotalWeight, LiveSum());
        }

        CommitPart(part);
        return null;
    }

    /// <summary>
    /// Folds several partial aggregates in one blocked pass (an interior node with many children).
    /// All or nothing: if any part is refused — other shape, or a contributor already counted here or in
    /// another part — nothing is added and the first refusal is returned.
    /// </summary>
    public UpdateRejected? MergeBatch(IReadOnlyList<PartialAggregate> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var seen = new HashSet<ulong>(_contributors);
        double bound = 0;
        foreach (var part in parts)
        {
            ArgumentNullException.ThrowIfNull(part);
            var rejection = CheckPart(part, seen);
            if (rejection is not null)
            {
                return rejection;
            }

            seen.UnionWith(part.Contributors);
            bound += part.ContributorCount == 0 ? 0 : part.MaxAbsFixedSum;
        }

        if (_fixed is not null)
        {
            if (CheckFixedBound(bound) is { } exhausted)
            {
                return exhausted;
            }

            foreach (var part in parts.Where(p => p.ContributorCount > 0))
            {
                _fixed.Add(part.FixedSums.Span, part.MaxAbsFixedSum);
                CommitPart(part);
            }

            return null;
        }

        // Parts were validated finite when built; a non-finite block can only be float32 group overflow.
        var means = parts.Select(p => p.Mean).ToList();
        var weights = parts.Select(p => p.TotalWeight).ToArray();
        if (!SumIntoScratch(means, weights, wide: false))
        {
            SumIntoScratch(means, weights, wide: true);
        }

        CommitScratch();
        foreach (var part in parts)
        {
            CommitPart(part);
        }

        return null;
    }

    /// <summary>An immutable snapshot: the weighted mean rounded once to float32.</summary>
    public PartialAggregate ToPartial()
    {
        if (_fixed is not null)
        {
            var ids = _contributors.ToArray();
            Array.Sort(ids);
            return new PartialAggregate(
                Shape, _fixed.Snapshot(), _fixed.Format, _totalWeight, ImmutableArray.Create(ids), _metrics.ToImmutableSortedDictionary(StringComparer.Ordinal));
        }

        // Every element is written below, so the (large-object-heap) array need not be zeroed first.
        var mean = GC.AllocateUninitializedArray<float>(Shape.ElementCount);
        if (_totalWeight > 0 && !_sumIsZero)
        {
            BlockedFold.ScaleNarrow(_sum, 1.0 / _totalWeight, mean, _limits.MaxDegreeOfParallelism);
        }
        else
        {
            Array.Clear(mean);
        }

        var contributors = _contributors.ToArray();
        Array.Sort(contributors);
        return new PartialAggregate(
            Shape, mean, _totalWeight, ImmutableArray.Create(contributors), _metrics.ToImmutableSortedDictionary(StringComparer.Ordinal));
    }

    /// <summary>Σ coefficientᵢ·Δᵢ as float64 (the raw sum, for rules that post-process it, e.g. DP noise).</summary>
    internal ReadOnlySpan<double> Sum => LiveSum();

    /// <summary>Forgets everything (next round) while keeping the buffers; the sums are cleared lazily.</summary>
    public void Reset()
    {
        _sumIsZero = true;
        _fixed?.Reset();
        _totalWeight = 0;
        _contributors.Clear();
        _metrics.Clear();
    }

    /// <summary>The sums, cleared first if a <see cref="Reset"/> left them stale; the caller is about to add to them.</summary>
    private Span<double> LiveSum()
    {
        if (_sumIsZero)
        {
            Array.Clear(_sum);
            _sumIsZero = false;
        }

        return _sum;
    }

    /// <summary>Adds the scratch sums to the accumulator; when it was empty the buffers simply swap.</summary>
    private void CommitScratch()
    {
        var scratch = _batchScratch!;
        if (_sumIsZero)
        {
            (_sum, _batchScratch) = (scratch, _sum);
            _sumIsZero = false;
        }
        else
        {
            TensorPrimitives.Add(_sum, scratch, _sum);
        }
    }

    /// <summary>Writes Σ coefficientᵢ·vectorᵢ into the scratch buffer (<see cref="BlockedFold.Sum"/>); false if any sum is non-finite.</summary>
    private bool SumIntoScratch(List<ReadOnlyMemory<float>> vectors, double[] coefficients, bool wide) =>
        BlockedFold.Sum(vectors, coefficients, wide, _batchScratch ??= new double[Shape.ElementCount], _limits.MaxDegreeOfParallelism);
}
