using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
namespace Totoro.Ml.Kernels;

/// <summary>
/// Unfolds one image (C×H×W) into the (C·k·k)×(OH·OW) matrix a convolution multiplies by its weights,
/// for stride 1 and symmetric zero padding; <see cref="Accumulate"/> folds a gradient of that matrix back.
/// Rows are <c>rowStride</c> apart, so the columns of a whole batch can sit side by side in one matrix.
/// Each (channel, ky, kx) row is built from contiguous segments of input rows, so the copy is memcpy-shaped.
/// </summary>
internal static class Im2Col
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Unfold(ReadOnlySpan<float> image, int channels, int height, int width, int kernel, int padding, Span<float> columns, int rowStride)
    {
        var oh = height + 2 * padding - kernel + 1;
        var ow = width + 2 * padding - kernel + 1;
        var patch = channels * kernel * kernel;
        if (image.Length < channels * height * width || columns.Length < (long)(patch - 1) * rowStride + oh * ow)
        {
            throw new ArgumentException("image or column buffer too short for the convolution shape");
        }

        fixed (float* pimg = image, pcol = columns)
        {
            var row = 0;
            for (var c = 0; c < channels; c++)
            {
                var src = pimg + c * height * width;
                for (var ky = 0; ky < kernel; ky++)
                {
                    for (var kx = 0; kx < kernel; kx++, row++)
                    {
                        var dst = pcol + (long)row * rowStride;
                        var (x0, x1) = ValidRange(kx, padding, width, ow);
                        for (var oy = 0; oy < oh; oy++, dst += ow)
                        {
                            var iy = oy + ky - padding;
                            if (iy < 0 || iy >= height || x0 >= x1)
                            {
                                new Span<float>(dst, ow).Clear();
                                continue;
                            }

                            for (var x = 0; x < x0; x++)
                            {
                                dst[x] = 0f;
                            }

                            Copy(src + iy * width + x0 + kx - padding, dst + x0, x1 - x0);
                            for (var x = x1; x < ow; x++)
                            {
                                dst[x] = 0f;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>image += fold(columns): the adjoint of <see cref="Unfold"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Accumulate(ReadOnlySpan<float> columns, int rowStride, int channels, int height, int width, int kernel, int padding, Span<float> image)
    {
        var oh = height + 2 * padding - kernel + 1;
        var ow = width + 2 * padding - kernel + 1;
        var patch = channels * kernel * kernel;
        if (image.Length < channels * height * width || columns.Length < (long)(patch - 1) * rowStride + oh * ow)
        {
            throw new ArgumentException("image or column buffer too short for the convolution shape");
        }

        fixed (float* pimg = image, pcol = columns)
        {
            var row = 0;
            for (var c = 0; c < channels; c++)
            {
                var dst = pimg + c * height * width;
                for (var ky = 0; ky < kernel; ky++)
                {
                    for (var kx = 0; kx < kernel; kx++, row++)
                    {
                        var src = pcol + (long)row * rowStride;
                        var (x0, x1) = ValidRange(kx, padding, width, ow);
                        if (x0 >= x1)
                        {
                            continue;
                        }

                        for (var oy = 0; oy < oh; oy++)
                        {
                            var iy = oy + ky - padding;
                            if (iy >= 0 && iy < height)
                            {
                                Add(src + oy * ow + x0, dst + iy * width + x0 + kx - padding, x1 - x0);
                            }
                        }
                    }
                }
            }
        }
    }

    // Image rows are short (5 to 28 floats), where a memmove call costs more than the copy itself.
    private static unsafe void Copy(float* src, float* dst, int n)
    {
        var i = 0;
        for (; i <= n - 8; i += 8)
        {
            Vector256.Store(Vector256.Load(src + i), dst + i);
        }

        for (; i < n; i++)
        {
            dst[i] = src[i];
        }
    }

    private static unsafe void Add(float* src, float* dst, int n)
    {
        var i = 0;
        for (; i <= n - 8; i += 8)
        {
            Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        }

        for (; i < n; i++)
        {
            dst[i] += src[i];
        }
    }

    /// <summary>Output columns [x0, x1) whose input column ox + kx − padding lies inside the image.</summary>
    private static (int X0, int X1) ValidRange(int kx, int padding, int width, int ow)
    {
        var x0 = Math.Max(0, padding - kx);
        var x1 = Math.Min(ow, width + padding - kx);
        return (x0, x1);
    }
}
