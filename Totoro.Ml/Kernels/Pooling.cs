using System.Runtime.CompilerServices;
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
            MaxForward2x2(input, planes, height, width, output, argmax);
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
