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
