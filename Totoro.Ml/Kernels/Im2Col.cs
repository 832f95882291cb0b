using System.Runtime.CompilerServices;
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
    public static void Unfold(ReadOnlySpan<float> image, int channels, int height, int width, int kernel, int padding, Span<float> columns, int rowStride)
    {
        var oh = height + 2 * padding - kernel + 1;
        var ow = width + 2 * padding - kernel + 1;
        var plane = oh * ow;
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            var src = image.Slice(c * height * width, height * width);
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, row++)
                {
                    var dst = columns.Slice(row * rowStride, plane);
                    var (x0, x1) = ValidRange(kx, padding, width, ow);
                    for (var oy = 0; oy < oh; oy++)
                    {
                        var line = dst.Slice(oy * ow, ow);
                        var iy = oy + ky - padding;
                        if (iy < 0 || iy >= height || x0 >= x1)
                        {
                            line.Clear();
                            continue;
                        }

                        line[..x0].Clear();
                        src.Slice(iy * width + x0 + kx - padding, x1 - x0).CopyTo(line[x0..x1]);
                        line[x1..].Clear();
                    }
                }
            }
        }
    }

    /// <summary>image += fold(columns): the adjoint of <see cref="Unfold"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(ReadOnlySpan<float> columns, int rowStride, int channels, int height, int width, int kernel, int padding, Span<float> image)
    {
        var oh = height + 2 * padding - kernel + 1;
        var ow = width + 2 * padding - kernel + 1;
        var plane = oh * ow;
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            var dst = image.Slice(c * height * width, height * width);
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, row++)
                {
                    var src = columns.Slice(row * rowStride, plane);
                    var (x0, x1) = ValidRange(kx, padding, width, ow);
                    if (x0 >= x1)
                    {
                        continue;
                    }

                    for (var oy = 0; oy < oh; oy++)
                    {
                        var iy = oy + ky - padding;
                        if (iy < 0 || iy >= height)
                        {
                            continue;
                        }

                        var target = dst.Slice(iy * width + x0 + kx - padding, x1 - x0);
                        System.Numerics.Tensors.TensorPrimitives.Add(target, src.Slice(oy * ow + x0, x1 - x0), target);
                    }
                }
            }
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
