using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Totoro.Ml.Serialization;

/// <summary>
/// float ↔ int8 for the int8 payload. TensorPrimitives' generic float→sbyte conversion runs scalar here
/// (≈ 4.5 GB/s of floats), so these are hand-written Vector512 loops: round-to-nearest-even, then
/// narrow int32 → int16 → int8 with saturation; the reverse widens and multiplies by the scale.
/// </summary>
internal static class Int8Kernels
{
    /// <summary>q[i] = round(x[i] · inverseScale) saturated to [−128, 127] (callers keep |x·inverseScale| ≤ 127).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> x, float inverseScale, Span<sbyte> q)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref sbyte qr = ref MemoryMarshal.GetReference(q[..x.Length]);
        int n = x.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(inverseScale);
            for (; i <= n - 64; i += 64)
            {
                var a = Vector512.ConvertToInt32(Vector512.Round(Vector512.LoadUnsafe(ref xr, (nuint)i) * s));
                var b = Vector512.ConvertToInt32(Vector512.Round(Vector512.LoadUnsafe(ref xr, (nuint)(i + 16)) * s));
                var c = Vector512.ConvertToInt32(Vector512.Round(Vector512.LoadUnsafe(ref xr, (nuint)(i + 32)) * s));
                var d = Vector512.ConvertToInt32(Vector512.Round(Vector512.LoadUnsafe(ref xr, (nuint)(i + 48)) * s));
                var low = Vector512.NarrowWithSaturation(a, b);
                var high = Vector512.NarrowWithSaturation(c, d);
                Vector512.NarrowWithSaturation(low, high).StoreUnsafe(ref qr, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref qr, i) = (sbyte)Math.Clamp(MathF.Round(Unsafe.Add(ref xr, i) * inverseScale), -128f, 127f);
        }
    }

    /// <summary>x[i] = q[i] · scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(ReadOnlySpan<sbyte> q, float scale, Span<float> x)
    {
        ref sbyte qr = ref MemoryMarshal.GetReference(q);
        ref float xr = ref MemoryMarshal.GetReference(x[..q.Length]);
        int n = q.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            for (; i <= n - 64; i += 64)
            {
                var bytes = Vector512.LoadUnsafe(ref qr, (nuint)i);
                var (low, high) = Vector512.Widen(bytes);
                var (a, b) = Vector512.Widen(low);
                var (c, d) = Vector512.Widen(high);
                (Vector512.ConvertToSingle(a) * s).StoreUnsafe(ref xr, (nuint)i);
                (Vector512.ConvertToSingle(b) * s).StoreUnsafe(ref xr, (nuint)(i + 16));
                (Vector512.ConvertToSingle(c) * s).StoreUnsafe(ref xr, (nuint)(i + 32));
                (Vector512.ConvertToSingle(d) * s).StoreUnsafe(ref xr, (nuint)(i + 48));
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref xr, i) = Unsafe.Add(ref qr, i) * scale;
        }
    }
}
