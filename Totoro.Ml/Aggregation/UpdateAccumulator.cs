using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The mutable hot-path accumulator of one (application, round) at one node: Σwᵢ·Δᵢ in float64,
/// Σwᵢ, the contributor set and metric sums. Every input is validated completely before it is added,
/// so a refused input leaves the accumulator exactly as it was.
/// <para>
/// Ownership: the accumulator owns its buffers and is not thread-safe (one actor owns it). It reads an
/// update's <see cref="ClientUpdate.Delta"/> only during the call. <see cref="ToPartial"/> returns an
/// independent immutable snapshot; the accumulator stays usable.
/// </para>
/// </summary>
public sealed class UpdateAccumulator
{
    /// <summary>
    /// Coordinates per block in <see cref="AccumulateBatch"/>: 32768 float64 sums (256 KiB) stay in the 1 MiB
    /// L2 while every update of the batch streams through them, so main memory sees each input byte once.
    /// Larger blocks also mean longer runs per input (128 KiB), which the hardware prefetcher favours; an
    /// early probe measured 8K-float blocks clearly slower than 64K-float ones.
    /// </summary>
    private const int BlockElements = 32768;

    private readonly AggregationLimits _limits;
    private readonly HashSet<ulong> _contributors = [];
    private readonly SortedDictionary<string, double> _metrics = new(StringComparer.Ordinal);
    private double[] _sum;
    private double[]? _batchScratch;
    private double _totalWeight;

    public UpdateAccumulator(ModelShape shape, AggregationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfNegative(shape.ElementCount);
        Shape = shape;
        _limits = limits;
        _sum = new double[shape.ElementCount];
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

        // A separate validation pass: folding the check into the FMA loop would discover a bad value only
        // after earlier elements were written, and float64 adds cannot be undone exactly.
        if (!AggregationKernels.AllFinite(update.Delta.Span))
        {
            return Validation.NonFinite(update.ContributorId);
        }

        AggregationKernels.AddScaled(update.Delta.Span, coefficient, _sum);
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

        CommitScratch();
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
        var rejection = CheckPart(part, _contributors);
        if (rejection is not null)
        {
            return rejection;
        }

        if (part.TotalWeight > 0)
        {
            AggregationKernels.AddScaled(part.Mean.Span, part.TotalWeight, _sum);
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
        foreach (var part in parts)
        {
            ArgumentNullException.ThrowIfNull(part);
            var rejection = CheckPart(part, seen);
            if (rejection is not null)
            {
                return rejection;
            }

            seen.UnionWith(part.Contributors);
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
        var mean = new float[Shape.ElementCount];
        if (_totalWeight > 0)
        {
            AggregationKernels.ScaleNarrow(_sum, 1.0 / _totalWeight, mean);
        }

        var contributors = _contributors.ToArray();
        Array.Sort(contributors);
        return new PartialAggregate(
            Shape, mean, _totalWeight, ImmutableArray.Create(contributors), _metrics.ToImmutableSortedDictionary(StringComparer.Ordinal));
    }

    /// <summary>Σ coefficientᵢ·Δᵢ as float64 (the raw sum, for rules that post-process it, e.g. DP noise).</summary>
    internal ReadOnlySpan<double> Sum => _sum;

    /// <summary>Forgets everything (next round) while keeping the buffers.</summary>
    public void Reset()
    {
        Array.Clear(_sum);
        _totalWeight = 0;
        _contributors.Clear();
        _metrics.Clear();
    }

    private UpdateRejected? CheckBeforeAdding(ClientUpdate update)
    {
        var rejection = Validation.CheckUpdate(update, Shape, _limits);
        if (rejection is null && _contributors.Contains(update.ContributorId))
        {
            rejection = Duplicate(update.ContributorId);
        }

        return rejection;
    }

    private static UpdateRejected Duplicate(ulong id) =>
        new(id, RejectionReason.DuplicateContributor, "this contributor was already counted in this round");

    private void Commit(ulong contributorId, double weight, ImmutableSortedDictionary<string, double> metrics)
    {
        _contributors.Add(contributorId);
        _totalWeight += weight;
        AddMetrics(metrics);
    }

    private void AddMetrics(IEnumerable<KeyValuePair<string, double>> metrics)
    {
        foreach (var (name, value) in metrics)
        {
            _metrics[name] = _metrics.GetValueOrDefault(name) + value;
        }
    }

    private UpdateRejected? CheckPart(PartialAggregate part, HashSet<ulong> counted)
    {
        if (part.Shape != Shape)
        {
            return part.Shape.ArchitectureId != Shape.ArchitectureId
                ? new(null, RejectionReason.ArchitectureMismatch, "partial aggregate of another architecture")
                : new(null, RejectionReason.ElementCountMismatch, "partial aggregate of another length");
        }

        foreach (ulong id in part.Contributors)
        {
            if (counted.Contains(id))
            {
                return Duplicate(id) with { ContributorId = null };
            }
        }

        return null;
    }

    private void CommitPart(PartialAggregate part)
    {
        _totalWeight += part.TotalWeight;
        _contributors.UnionWith(part.Contributors);
        AddMetrics(part.MetricSums);
    }

    /// <summary>Adds the scratch sums to the accumulator; when it was empty the buffers simply swap.</summary>
    private void CommitScratch()
    {
        var scratch = _batchScratch!;
        if (_contributors.Count == 0)
        {
            (_sum, _batchScratch) = (scratch, _sum);
        }
        else
        {
            TensorPrimitives.Add(_sum, scratch, _sum);
        }
    }

    /// <summary>
    /// Writes Σ coefficientᵢ·vectorᵢ into the scratch buffer, block by block, four vectors per pass with
    /// float32 group sums, or one at a time entirely in float64 when <paramref name="wide"/>; false if any
    /// sum is non-finite.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private bool SumIntoScratch(List<ReadOnlyMemory<float>> vectors, double[] coefficients, bool wide)
    {
        var target = _batchScratch ??= new double[Shape.ElementCount];
        int blocks = (target.Length + BlockElements - 1) / BlockElements;
        int threads = Math.Min(_limits.MaxDegreeOfParallelism, blocks);
        if (threads <= 1)
        {
            bool finite = true;
            for (int b = 0; b < blocks; b++)
            {
                finite &= SumBlock(vectors, coefficients, wide, target, b);
            }

            return finite;
        }

        var finiteByBlock = new bool[blocks];
        Parallel.For(
            0,
            blocks,
            new ParallelOptions { MaxDegreeOfParallelism = threads },
            b => finiteByBlock[b] = SumBlock(vectors, coefficients, wide, target, b));
        return Array.TrueForAll(finiteByBlock, f => f);
    }

    /// <summary>Sums block <paramref name="blockIndex"/> of every vector into the same block of the target.</summary>
    private static bool SumBlock(List<ReadOnlyMemory<float>> vectors, double[] coefficients, bool wide, double[] target, int blockIndex)
    {
        int start = blockIndex * BlockElements;
        int length = Math.Min(BlockElements, target.Length - start);
        var block = target.AsSpan(start, length);
        block.Clear();
        int k = 0;
        for (; !wide && k + 4 <= vectors.Count; k += 4)
        {
            AggregationKernels.AddScaled4(
                vectors[k].Span.Slice(start, length),
                vectors[k + 1].Span.Slice(start, length),
                vectors[k + 2].Span.Slice(start, length),
                vectors[k + 3].Span.Slice(start, length),
                coefficients[k], coefficients[k + 1], coefficients[k + 2], coefficients[k + 3],
                block);
        }

        for (; k < vectors.Count; k++)
        {
            AggregationKernels.AddScaled(vectors[k].Span.Slice(start, length), coefficients[k], block);
        }

        return AggregationKernels.AllFinite(block);
    }
}
