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
    /// acc[i] += w0·x0[i] + w1·x1[i] + w2·x2[i] + w3·x3[i]: four inputs per pass over the accumulator block.
    /// The four products are summed in float32 registers and widened once: that halves the conversions
    /// and FMAs per input, and the float32 rounding (a few ulps of a four-term sum) does not compound
    /// across groups, because every group lands in the float64 sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled4(
        ReadOnlySpan<float> x0, ReadOnlySpan<float> x1, ReadOnlySpan<float> x2, ReadOnlySpan<float> x3,
        double w0, double w1, double w2, double w3, Span<double> acc)
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
            for (; i <= n - 16; i += 16)
            {
                var group = Vector512.LoadUnsafe(ref r0, (nuint)i) * v0;
                group = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r1, (nuint)i), v1, group);
                group = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r2, (nuint)i), v2, group);
                group = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r3, (nuint)i), v3, group);
                (Vector512.LoadUnsafe(ref ar, (nuint)i) + Vector512.WidenLower(group)).StoreUnsafe(ref ar, (nuint)i);
                (Vector512.LoadUnsafe(ref ar, (nuint)(i + 8)) + Vector512.WidenUpper(group)).StoreUnsafe(ref ar, (nuint)(i + 8));
            }
        }

        for (; i < n; i++)
        {
            float group = (f0 * Unsafe.Add(ref r0, i)) + (f1 * Unsafe.Add(ref r1, i)) + (f2 * Unsafe.Add(ref r2, i)) + (f3 * Unsafe.Add(ref r3, i));
            Unsafe.Add(ref ar, i) += group;
        }
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
