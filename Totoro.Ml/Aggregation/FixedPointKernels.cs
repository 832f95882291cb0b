using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The loops behind the fixed-point fold (<see cref="FixedPointFormat"/>). Quantizing is one float64 multiply and one
/// round-to-nearest-even per coordinate, in Vector512 lanes with a scalar tail; both give the same bits (IEEE 754
/// multiply, ties to even), so the result depends neither on the vector width nor on where the tail starts.
/// </summary>
internal static class FixedPointKernels
{
    /// <summary>
    /// sum[j] += RNE(x[j] · factor), or −= when <paramref name="subtract"/>, fused in one pass; factor = c·2^F (exact: a
    /// power-of-two scaling of c). Returns −1 when every |x[j]·factor| ≤ 2^53 (<paramref name="maxAbs"/> is then
    /// max |q[j]|), else the first coordinate that is not (NaN included); only the coordinates before it were changed,
    /// and the caller undoes them exactly by subtracting over that prefix. The caller's bound keeps |sum| ≤ 2^62
    /// before the call, so adding values of |q| ≤ 2^53 cannot wrap.
    /// </summary>
    public static int QuantizeAdd(ReadOnlySpan<float> x, double factor, Span<long> sum, bool subtract, out long maxAbs)
    {
        var limit = Vector512.Create(FixedPointFormat.MaxQuantized);
        var scale = Vector512.Create(subtract ? -factor : factor);
        var max = Vector512<double>.Zero;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + Vector512<float>.Count <= x.Length; i += Vector512<float>.Count)
            {
                var (lower, upper) = Vector512.Widen(Vector512.Create(x.Slice(i, Vector512<float>.Count)));
                var lo = Vector512.Round(lower * scale);
                var hi = Vector512.Round(upper * scale);
                var absLo = Vector512.Abs(lo);
                var absHi = Vector512.Abs(hi);
                if (!Vector512.LessThanOrEqualAll(absLo, limit) || !Vector512.LessThanOrEqualAll(absHi, limit))
                {
                    break;
                }

                max = Vector512.Max(max, Vector512.Max(absLo, absHi));
                var s0 = sum.Slice(i, Vector512<long>.Count);
                var s1 = sum.Slice(i + Vector512<long>.Count, Vector512<long>.Count);
                (Vector512.Create((ReadOnlySpan<long>)s0) + Vector512.ConvertToInt64(lo)).CopyTo(s0);
                (Vector512.Create((ReadOnlySpan<long>)s1) + Vector512.ConvertToInt64(hi)).CopyTo(s1);
            }
        }

        double scalarMax = 0;
        for (int k = 0; k < Vector512<double>.Count; k++)
        {
            scalarMax = Math.Max(scalarMax, max[k]);
        }

        double signedFactor = subtract ? -factor : factor;
        for (; i < x.Length; i++)
        {
            double r = Math.Round(x[i] * signedFactor, MidpointRounding.ToEven);
            if (!(Math.Abs(r) <= FixedPointFormat.MaxQuantized))
            {
                maxAbs = 0;
                return i;
            }

            scalarMax = Math.Max(scalarMax, Math.Abs(r));
            sum[i] += (long)r;
        }

        maxAbs = (long)scalarMax;
        return -1;
    }

    /// <summary>sum[j] += part[j]. The callers' bounds (<see cref="FixedPointFormat.MaxBound"/>) rule out wraparound.</summary>
    public static void Add(ReadOnlySpan<long> part, Span<long> sum) => TensorPrimitives.Add(sum, part, sum);

    /// <summary>mean[j] = (float)((double)sum[j] · factor), with factor = 2^−F / W: the one rounding to float32 of the fold.</summary>
    public static void Dequantize(ReadOnlySpan<long> sum, double factor, Span<float> mean)
    {
        for (int i = 0; i < sum.Length; i++)
        {
            mean[i] = (float)(sum[i] * factor);
        }
    }

    /// <summary>max |v[j]| (long.MinValue counts as 2^63).</summary>
    public static ulong MaxAbs(ReadOnlySpan<long> values)
    {
        ulong max = 0;
        foreach (long v in values)
        {
            max = Math.Max(max, v < 0 ? (ulong)(-(v + 1)) + 1 : (ulong)v);
        }

        return max;
    }
}
