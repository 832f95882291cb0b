using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
namespace Totoro.Ml.Kernels;

/// <summary>Max and average pooling over square windows, per channel plane, no padding.</summary>
internal static class Pooling
{
    public static int OutputSize(int size, int window, int stride) => (size - window) / stride + 1;

    /// <summary>Max pooling of a batch of planes; <paramref name="argmax"/> records the winning input index for backward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxForward(ReadOnlySpan<float> input, int planes, int height, int width, int window, int stride, Span<float> output, Span<int> argmax)
    {
        var oh = OutputSize(height, window, stride);
        var ow = OutputSize(width, window, stride);
        if (window == 2 && stride == 2)
        {
            if (Avx512F.IsSupported && width <= 32)
            {
                MaxForward2x2Avx512(input, planes, height, width, output, argmax);
            }
            else
            {
                MaxForward2x2(input, planes, height, width, output, argmax);
            }

            return;
        }

        var o = 0;
        for (var p = 0; p < planes; p++)
        {
            var baseIndex = p * height * width;
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++, o++)
                {
                    var start = baseIndex + oy * stride * width + ox * stride;
                    var best = start;
                    var bestValue = input[start];
                    for (var wy = 0; wy < window; wy++)
                    {
                        var rowStart = start + wy * width;
                        for (var wx = 0; wx < window; wx++)
                        {
                            var v = input[rowStart + wx];
                            if (v > bestValue)
                            {
                                bestValue = v;
                                best = rowStart + wx;
                            }
                        }
                    }

                    output[o] = bestValue;
                    argmax[o] = best;
                }
            }
        }
    }

    /// <summary>
    /// 2×2, stride 2 for rows of at most 32: each output row is one pair of input rows, loaded as two vectors
    /// each and split into even and odd columns with a two-source permute; the comparisons become blends,
    /// so no branch depends on the data. The last row pair of the buffer, where full-vector loads would read
    /// past the end, takes the scalar path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxForward2x2Avx512(ReadOnlySpan<float> input, int planes, int height, int width, Span<float> output, Span<int> argmax)
    {
        var oh = height / 2;
        var ow = width / 2;
        if (input.Length < planes * height * width || output.Length < planes * oh * ow || argmax.Length < planes * oh * ow)
        {
            throw new ArgumentException("pooling buffers are too short for the given shape");
        }

        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        var lanes2 = even;
        var values = stackalloc float[16];
        var indices = stackalloc int[16];
        fixed (float* pin = input, pout = output)
        fixed (int* pidx = argmax)
        {
            var o = 0;
            for (var p = 0; p < planes; p++)
            {
                for (var oy = 0; oy < oh; oy++, o += ow)
                {
                    var top = (p * height + 2 * oy) * width;
                    if (top + width + 32 > input.Length)
                    {
                        MaxForward2x2(input[top..], 1, 2, width, output.Slice(o, ow), argmax.Slice(o, ow));
                        for (var x = 0; x < ow; x++)
                        {
                            pidx[o + x] += top;
                        }

                        continue;
                    }

                    var t0 = Vector512.Load(pin + top);
                    var t1 = Vector512.Load(pin + top + 16);
                    var b0 = Vector512.Load(pin + top + width);
                    var b1 = Vector512.Load(pin + top + width + 16);
                    var a = Avx512F.PermuteVar16x32x2(t0, even, t1);
                    var b = Avx512F.PermuteVar16x32x2(t0, odd, t1);
                    var c = Avx512F.PermuteVar16x32x2(b0, even, b1);
                    var d = Avx512F.PermuteVar16x32x2(b0, odd, b1);
                    var baseIndex = Vector512.Create(top) + lanes2;
                    var bWins = Vector512.GreaterThan(b, a);
                    var topMax = Vector512.ConditionalSelect(bWins, b, a);
                    var topAt = Vector512.ConditionalSelect(bWins.AsInt32(), baseIndex + Vector512<int>.One, baseIndex);
                    var dWins = Vector512.GreaterThan(d, c);
                    var bottomMax = Vector512.ConditionalSelect(dWins, d, c);
                    var bottomBase = baseIndex + Vector512.Create(width);
                    var bottomAt = Vector512.ConditionalSelect(dWins.AsInt32(), bottomBase + Vector512<int>.One, bottomBase);
                    var bottomWins = Vector512.GreaterThan(bottomMax, topMax);
                    Vector512.ConditionalSelect(bottomWins, bottomMax, topMax).Store(values);
                    Vector512.ConditionalSelect(bottomWins.AsInt32(), bottomAt, topAt).Store(indices);
                    for (var x = 0; x < ow; x++)
                    {
                        pout[o + x] = values[x];
                        pidx[o + x] = indices[x];
                    }
                }
            }
        }
    }

    /// <summary>The common 2×2, stride 2 window without bounds checks; ties keep the first element, as the general path does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxForward2x2(ReadOnlySpan<float> input, int planes, int height, int width, Span<float> output, Span<int> argmax)
    {
        var oh = height / 2;
        var ow = width / 2;
        if (input.Length < planes * height * width || output.Length < planes * oh * ow || argmax.Length < planes * oh * ow)
        {
            throw new ArgumentException("pooling buffers are too short for the given shape");
        }

        fixed (float* pin = input, pout = output)
        fixed (int* pidx = argmax)
        {
            var o = 0;
            for (var p = 0; p < planes; p++)
            {
                var plane = p * height * width;
                for (var oy = 0; oy < oh; oy++)
                {
                    var top = plane + 2 * oy * width;
                    for (var ox = 0; ox < ow; ox++, o++)
                    {
                        var i = top + 2 * ox;
                        float a = pin[i], b = pin[i + 1], c = pin[i + width], d = pin[i + width + 1];

                        // Selects, not branches: on real activations each comparison is a coin flip.
                        var top2 = b > a ? b : a;
                        var topAt = b > a ? i + 1 : i;
                        var bottom2 = d > c ? d : c;
                        var bottomAt = d > c ? i + width + 1 : i + width;
                        var best = bottom2 > top2 ? bottom2 : top2;
                        var at = bottom2 > top2 ? bottomAt : topAt;
                        pout[o] = best;
                        pidx[o] = at;
                    }
                }
            }
        }
    }

    /// <summary>inputGradient = scatter of outputGradient to the recorded maxima (overwrites).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> argmax, Span<float> inputGradient)
    {
        inputGradient.Clear();
        for (var o = 0; o < outputGradient.Length; o++)
        {
            inputGradient[argmax[o]] += outputGradient[o];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageForward(ReadOnlySpan<float> input, int planes, int height, int width, int window, int stride, Span<float> output)
    {
        var oh = OutputSize(height, window, stride);
        var ow = OutputSize(width, window, stride);
        var scale = 1f / (window * window);
        var o = 0;
        for (var p = 0; p < planes; p++)
        {
            var baseIndex = p * height * width;
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++, o++)
                {
                    var start = baseIndex + oy * stride * width + ox * stride;
                    var sum = 0f;
                    for (var wy = 0; wy < window; wy++)
                    {
                        for (var wx = 0; wx < window; wx++)
                        {
                            sum += input[start + wy * width + wx];
                        }
                    }

                    output[o] = sum * scale;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageBackward(ReadOnlySpan<float> outputGradient, int planes, int height, int width, int window, int stride, Span<float> inputGradient)
    {
        var oh = OutputSize(height, window, stride);
        var ow = OutputSize(width, window, stride);
        var scale = 1f / (window * window);
        inputGradient.Clear();
        var o = 0;
        for (var p = 0; p < planes; p++)
        {
            var baseIndex = p * height * width;
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++, o++)
                {
                    var start = baseIndex + oy * stride * width + ox * stride;
                    var g = outputGradient[o] * scale;
                    for (var wy = 0; wy < window; wy++)
                    {
                        for (var wx = 0; wx < window; wx++)
                        {
                            inputGradient[start + wy * width + wx] += g;
                        }
                    }
                }
            }
        }
    }
}
