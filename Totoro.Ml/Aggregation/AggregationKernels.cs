using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The streaming loops behind the accumulator. Inputs are float32 (the wire format), sums are float64:
/// widening costs no memory traffic on the input side, and a float64 sum keeps the result's rounding error
/// independent of how many workers a node folds (docs/aggregation.md, "Precision").
/// Vector512 paths run on AVX-512 hardware; the scalar loops handle tails and other CPUs.
/// </summary>
internal static class AggregationKernels
{
    private const uint FloatExponentMask = 0x7F80_0000u;
    private const ulong DoubleExponentMask = 0x7FF0_0000_0000_0000ul;

    /// <summary>acc[i] += w · x[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(ReadOnlySpan<float> x, double w, Span<double> acc)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref double ar = ref MemoryMarshal.GetReference(acc);
        int n = x.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var wv = Vector512.Create(w);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var a0 = Vector512.LoadUnsafe(ref ar, (nuint)i);
                var a1 = Vector512.LoadUnsafe(ref ar, (nuint)(i + 8));
                Vector512.FusedMultiplyAdd(Vector512.WidenLower(v), wv, a0).StoreUnsafe(ref ar, (nuint)i);
                Vector512.FusedMultiplyAdd(Vector512.WidenUpper(v), wv, a1).StoreUnsafe(ref ar, (nuint)(i + 8));
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref ar, i) += w * Unsafe.Add(ref xr, i);
        }
    }

    /// <summary>
    /// acc[i] += w0·x0[i] + w1·x1[i] + w2·x2[i] + w3·x3[i]: four inputs per pass over the accumulator block
    /// (acc[i] = the group when <paramref name="overwrite"/>: the block's first pass writes instead of adding,
    /// so it need not be cleared first).
    /// The four products are summed in float32 registers and widened once: that halves the conversions
    /// and FMAs per input, and the float32 rounding (a few ulps of a four-term sum) does not compound
    /// across groups, because every group lands in the float64 sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled4(
        ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> x2, ReadOnlySpan<float> x3,
        double w0, double w1, double w2, double w3, Span<double> acc, bool overwrite = false)
    {
        int n = acc.Length;
        ref float r0 = ref MemoryMarshal.GetReference(x0[..n]);
        ref float r1 = ref MemoryMarshal.GetReference(x1[..n]);
        ref float r2 = ref MemoryMarshal.GetReference(x2[..n]);
        ref float r3 = ref MemoryMarshal.GetReference(x3[..n]);
        ref double ar = ref MemoryMarshal.GetReference(acc);
        float f0 = (float)w0, f1 = (float)w1, f2 = (float)w2, f3 = (float)w3;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v0 = Vector512.Create(f0);
            var v1 = Vector512.Create(f1);
            var v2 = Vector512.Create(f2);
            var v3 = Vector512.Create(f3);
            if (overwrite)
            {
                for (; i <= n - 16; i += 16)
                {
                    var group = Group4(ref r0, ref r1, ref r2, ref r3, v0, v1, v2, v3, (nuint)i);
                    Vector512.WidenLower(group).StoreUnsafe(ref ar, (nuint)i);
                    Vector512.WidenUpper(group).StoreUnsafe(ref ar, (nuint)(i + 8));
                }
            }
            else
            {
                for (; i <= n - 16; i += 16)
                {
                    var group = Group4(ref r0, ref r1, ref r2, ref r3, v0, v1, v2, v3, (nuint)i);
                    (Vector512.LoadUnsafe(ref ar, (nuint)i) + Vector512.WidenLower(group)).StoreUnsafe(ref ar, (nuint)i);
                    (Vector512.LoadUnsafe(ref ar, (nuint)(i + 8)) + Vector512.WidenUpper(group)).StoreUnsafe(ref ar, (nuint)(i + 8));
                }
            }
        }

        for (; i < n; i++)
        {
            float group = (f0 * Unsafe.Add(ref r0, i)) + (f1 * Unsafe.Add(ref r1, i)) + (f2 * Unsafe.Add(ref r2, i)) + (f3 * Unsafe.Add(ref r3, i));
            Unsafe.Add(ref ar, i) = overwrite ? group : Unsafe.Add(ref ar, i) + group;
        }
    }

    /// <summary>
    /// Two <see cref="AddScaled4"/> passes fused into one: acc[i] = (acc[i] + group₀₋₃) + group₄₋₇ in float64,
    /// the same operations in the same order, hence bit-identical to two four-input passes, with half the
    /// loads and stores of the (L2-resident) sums per input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled8(
        ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> x2, ReadOnlySpan<float> x3,
        ReadOnlySpan<float> x4, ReadOnlySpan<float> x5, ReadOnlySpan<float> x6, ReadOnlySpan<float> x7,
        ReadOnlySpan<double> w, Span<double> acc, bool overwrite = false)
    {
        int n = acc.Length;
        if (!Vector512.IsHardwareAccelerated || w.Length != 8)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(w.Length, 8);
            AddScaled4(x0, x1, x2, x3, w[0], w[1], w[2], w[3], acc, overwrite);
            AddScaled4(x4, x5, x6, x7, w[4], w[5], w[6], w[7], acc);
            return;
        }

        ref float r0 = ref MemoryMarshal.GetReference(x0[..n]);
        ref float r1 = ref MemoryMarshal.GetReference(x1[..n]);
        ref float r2 = ref MemoryMarshal.GetReference(x2[..n]);
        ref float r3 = ref MemoryMarshal.GetReference(x3[..n]);
        ref float r4 = ref MemoryMarshal.GetReference(x4[..n]);
        ref float r5 = ref MemoryMarshal.GetReference(x5[..n]);
        ref float r6 = ref MemoryMarshal.GetReference(x6[..n]);
        ref float r7 = ref MemoryMarshal.GetReference(x7[..n]);
        ref double ar = ref MemoryMarshal.GetReference(acc);
        var v0 = Vector512.Create((float)w[0]);
        var v1 = Vector512.Create((float)w[1]);
        var v2 = Vector512.Create((float)w[2]);
        var v3 = Vector512.Create((float)w[3]);
        var v4 = Vector512.Create((float)w[4]);
        var v5 = Vector512.Create((float)w[5]);
        var v6 = Vector512.Create((float)w[6]);
        var v7 = Vector512.Create((float)w[7]);
        int i = 0;
        if (overwrite)
        {
            for (; i <= n - 16; i += 16)
            {
                var g0 = Group4(ref r0, ref r1, ref r2, ref r3, v0, v1, v2, v3, (nuint)i);
                var g1 = Group4(ref r4, ref r5, ref r6, ref r7, v4, v5, v6, v7, (nuint)i);
                (Vector512.WidenLower(g0) + Vector512.WidenLower(g1)).StoreUnsafe(ref ar, (nuint)i);
                (Vector512.WidenUpper(g0) + Vector512.WidenUpper(g1)).StoreUnsafe(ref ar, (nuint)(i + 8));
            }
        }
        else
        {
            for (; i <= n - 16; i += 16)
            {
                var g0 = Group4(ref r0, ref r1, ref r2, ref r3, v0, v1, v2, v3, (nuint)i);
                var g1 = Group4(ref r4, ref r5, ref r6, ref r7, v4, v5, v6, v7, (nuint)i);
                var lo = Vector512.LoadUnsafe(ref ar, (nuint)i) + Vector512.WidenLower(g0);
                var hi = Vector512.LoadUnsafe(ref ar, (nuint)(i + 8)) + Vector512.WidenUpper(g0);
                (lo + Vector512.WidenLower(g1)).StoreUnsafe(ref ar, (nuint)i);
                (hi + Vector512.WidenUpper(g1)).StoreUnsafe(ref ar, (nuint)(i + 8));
            }
        }

        if (i < n)
        {
            AddScaled4(x0[i..n], x1[i..n], x2[i..n], x3[i..n], w[0], w[1], w[2], w[3], acc[i..], overwrite);
            AddScaled4(x4[i..n], x5[i..n], x6[i..n], x7[i..n], w[4], w[5], w[6], w[7], acc[i..]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Group4(
        ref float r0, ref float r1, ref float r2, ref float r3,
        Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, nuint i)
    {
        var group = Vector512.LoadUnsafe(ref r0, i) * v0;
        group = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r1, i), v1, group);
        group = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r2, i), v2, group);
        return Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r3, i), v3, group);
    }

    /// <summary>dst[i] = (float)(src[i] · scale).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleNarrow(ReadOnlySpan<double> src, double scale, Span<float> dst)
    {
        ref double sr = ref MemoryMarshal.GetReference(src);
        ref float dr = ref MemoryMarshal.GetReference(dst[..src.Length]);
        int n = src.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            for (; i <= n - 16; i += 16)
            {
                var lo = Vector512.LoadUnsafe(ref sr, (nuint)i) * s;
                var hi = Vector512.LoadUnsafe(ref sr, (nuint)(i + 8)) * s;
                Vector512.Narrow(lo, hi).StoreUnsafe(ref dr, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = (float)(Unsafe.Add(ref sr, i) * scale);
        }
    }

    /// <summary>True when no element is NaN or ±∞ (exponent bits all ones).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFinite(ReadOnlySpan<float> x)
    {
        ReadOnlySpan<uint> bits = MemoryMarshal.Cast<float, uint>(x);
        ref uint br = ref MemoryMarshal.GetReference(bits);
        int n = bits.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var mask = Vector512.Create(FloatExponentMask);
            var bad = Vector512<uint>.Zero;
            for (; i <= n - 16; i += 16)
            {
                bad |= Vector512.Equals(Vector512.LoadUnsafe(ref br, (nuint)i) & mask, mask);
            }

            if (bad != Vector512<uint>.Zero)
            {
                return false;
            }
        }

        for (; i < n; i++)
        {
            if ((Unsafe.Add(ref br, i) & FloatExponentMask) == FloatExponentMask)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when no element is NaN or ±∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFinite(ReadOnlySpan<double> x)
    {
        ReadOnlySpan<ulong> bits = MemoryMarshal.Cast<double, ulong>(x);
        ref ulong br = ref MemoryMarshal.GetReference(bits);
        int n = bits.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var mask = Vector512.Create(DoubleExponentMask);
            var bad = Vector512<ulong>.Zero;
            for (; i <= n - 8; i += 8)
            {
                bad |= Vector512.Equals(Vector512.LoadUnsafe(ref br, (nuint)i) & mask, mask);
            }

            if (bad != Vector512<ulong>.Zero)
            {
                return false;
            }
        }

        for (; i < n; i++)
        {
            if ((Unsafe.Add(ref br, i) & DoubleExponentMask) == DoubleExponentMask)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Euclidean norm computed in float64, so it cannot overflow for any finite float32 input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Norm(ReadOnlySpan<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s0 = Vector512<double>.Zero;
            var s1 = Vector512<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var lo = Vector512.WidenLower(v);
                var hi = Vector512.WidenUpper(v);
                s0 = Vector512.FusedMultiplyAdd(lo, lo, s0);
                s1 = Vector512.FusedMultiplyAdd(hi, hi, s1);
            }

            total = Vector512.Sum(s0 + s1);
        }

        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref xr, i);
            total += v * v;
        }

        return Math.Sqrt(total);
    }
}
