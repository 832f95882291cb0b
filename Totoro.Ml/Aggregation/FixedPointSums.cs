namespace Totoro.Ml.Aggregation;

/// <summary>
/// The int64 sums of an <see cref="UpdateAccumulator"/> in fixed-point mode, and the bound that keeps them from
/// wrapping around: the sum of the largest |q| of every input folded so far, which can only over-estimate the
/// largest |sum|. An input that would take the bound past <see cref="FixedPointFormat.MaxBound"/> is refused.
/// A refused input leaves the sums exactly as they were (integer additions undo exactly). Not thread-safe (one owner).
/// </summary>
internal sealed class FixedPointSums(FixedPointFormat format, int length)
{
    private long[] _sums = new long[length];
    private double _bound;
    private bool _isZero = true;

    public FixedPointFormat Format { get; } = format;

    /// <summary>
    /// Adds RNE(c·Δ·2^F) in one fused pass; null when added. On a refusal (a coordinate out of range, or a bound past
    /// 2^62) the sums are restored exactly — integer additions undo — so nothing of the update remains.
    /// </summary>
    public UpdateRejected? Add(ulong id, ReadOnlySpan<float> delta, double coefficient)
    {
        double factor = coefficient * Format.Scale;
        if (_isZero)
        {
            // Nothing to keep: quantize straight into the sums and only mark them live once the update is accepted.
            _sums.AsSpan().Clear();
        }

        int bad = FixedPointKernels.QuantizeAdd(delta, factor, _sums, subtract: false, out long maxAbs);
        var rejection = bad >= 0
            ? float.IsFinite(delta[bad]) ? Format.OutOfRange(id, bad, coefficient * delta[bad]) : Validation.NonFinite(id)
            : CheckBound(id, maxAbs);
        if (rejection is not null)
        {
            if (!_isZero)
            {
                FixedPointKernels.QuantizeAdd(delta[..(bad >= 0 ? bad : delta.Length)], factor, _sums, subtract: true, out _);
            }

            return rejection;
        }

        _isZero = false;
        _bound += maxAbs;
        return null;
    }

    /// <summary>Null when adding an input of largest magnitude <paramref name="maxAbs"/> cannot wrap any sum around.</summary>
    public UpdateRejected? CheckBound(ulong? id, double maxAbs) =>
        _bound + maxAbs <= FixedPointFormat.MaxBound ? null : FixedPointFormat.Exhausted(id, _bound + maxAbs);

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
