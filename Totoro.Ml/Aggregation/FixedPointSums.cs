namespace Totoro.Ml.Aggregation;

/// <summary>
/// The int64 sums of an <see cref="UpdateAccumulator"/> in fixed-point mode, and the bound that keeps them from
/// wrapping around: the sum of the largest |q| of every input folded so far, which can only over-estimate the
/// largest |sum|. An input that would take the bound past <see cref="FixedPointFormat.MaxBound"/> is refused.
/// Every input is quantized into scratch and checked before it touches the sums. Not thread-safe (one owner).
/// </summary>
internal sealed class FixedPointSums(FixedPointFormat format, int length)
{
    private long[] _sums = new long[length];
    private long[]? _scratch;
    private long _scratchMax;
    private double _bound;
    private bool _isZero = true;

    public FixedPointFormat Format { get; } = format;

    /// <summary>Quantizes c·Δ into scratch (not yet added). Null when it may be added by <see cref="CommitScratch"/>.</summary>
    public UpdateRejected? Quantize(ulong id, ReadOnlySpan<float> delta, double coefficient)
    {
        _scratch ??= new long[_sums.Length];
        int bad = FixedPointKernels.Quantize(delta, coefficient * Format.Scale, _scratch, out _scratchMax);
        if (bad >= 0)
        {
            return float.IsFinite(delta[bad]) ? Format.OutOfRange(id, bad, coefficient * delta[bad]) : Validation.NonFinite(id);
        }

        return CheckBound(id, _scratchMax);
    }

    /// <summary>Null when adding an input of largest magnitude <paramref name="maxAbs"/> cannot wrap any sum around.</summary>
    public UpdateRejected? CheckBound(ulong? id, double maxAbs) =>
        _bound + maxAbs <= FixedPointFormat.MaxBound ? null : FixedPointFormat.Exhausted(id, _bound + maxAbs);

    public void CommitScratch() => Add(_scratch!, _scratchMax);

    public void Add(ReadOnlySpan<long> values, double maxAbs)
    {
        if (_isZero)
        {
            values.CopyTo(_sums);
            _isZero = false;
        }
        else
        {
            FixedPointKernels.Add(values, _sums);
        }

        _bound += maxAbs;
    }

    /// <summary>A copy of the sums (all zeros when nothing was added).</summary>
    public long[] Snapshot() => _isZero ? new long[_sums.Length] : (long[])_sums.Clone();

    public void Reset()
    {
        _isZero = true;
        _bound = 0;
    }
}
