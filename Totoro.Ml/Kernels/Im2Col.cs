using System.Numerics.Tensors;

namespace Totoro.Ml.Kernels;

/// <summary>
/// im2col for stride-1 convolutions in the "shifted image" layout. With the input zero-padded to hp × wp,
/// output pixel (oy, ox) of kernel tap (ky, kx) reads input (oy + ky, ox + kx), so for a fixed (channel,
/// ky, kx) the taps of all outputs form ONE contiguous run of the padded image starting at ky·wp + kx,
/// provided the output rows keep the input pitch wp. Each column-matrix row is therefore one copy instead
/// of one per output row; the price is wp − ow wasted columns per output row.
/// </summary>
internal static class Im2Col
{
    /// <summary>Copies image (channels × h × w) into the centre of padded (channels × (h+2p) × (w+2p)), zero borders.</summary>
    public static void Pad(ReadOnlySpan<float> image, int channels, int height, int width, int padding, Span<float> padded)
    {
        var (hp, wp) = (height + 2 * padding, width + 2 * padding);
        padded[..(channels * hp * wp)].Clear();
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                image.Slice((c * height + y) * width, width).CopyTo(padded.Slice((c * hp + y + padding) * wp + padding, width));
            }
        }
    }

    /// <summary>image (channels × h × w) = the centre of padded, the adjoint of <see cref="Pad"/>.</summary>
    public static void Crop(ReadOnlySpan<float> padded, int channels, int height, int width, int padding, Span<float> image)
    {
        var (hp, wp) = (height + 2 * padding, width + 2 * padding);
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                padded.Slice((c * hp + y + padding) * wp + padding, width).CopyTo(image.Slice((c * height + y) * width, width));
            }
        }
    }

    /// <summary>
    /// Writes the (channels·k·k) × (oh·wp) column matrix of one padded image; row r starts at r·rowStride,
    /// so a batch's matrices sit side by side. Columns ox ≥ ow of an output row are surplus (see below).
    /// </summary>
    public static void Unfold(ReadOnlySpan<float> padded, int channels, int hp, int wp, int kernel, Span<float> columns, int rowStride)
    {
        var (oh, ow) = (hp - kernel + 1, wp - kernel + 1);
        var run = (oh - 1) * wp + ow;
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, row++)
                {
                    var dst = columns.Slice(row * rowStride, oh * wp);
                    padded.Slice((c * hp + ky) * wp + kx, run).CopyTo(dst);

                    // Where the run wraps from one image row into the next, the columns hold real (finite) pixels
                    // that belong to no output; they only ever meet zero gradients. The tail past the run would
                    // hold whatever the pooled buffer held, so it is cleared.
                    dst[run..].Clear();
                }
            }
        }
    }

    /// <summary>
    /// padded += fold(columns), the adjoint of <see cref="Unfold"/>; the wasted columns must hold zeros
    /// (they do when they come from a GEMM against a gradient whose wasted columns are zero).
    /// </summary>
    public static void Accumulate(ReadOnlySpan<float> columns, int rowStride, int channels, int hp, int wp, int kernel, Span<float> padded)
    {
        var (oh, ow) = (hp - kernel + 1, wp - kernel + 1);
        var run = (oh - 1) * wp + ow;
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var ky = 0; ky < kernel; ky++)
            {
                for (var kx = 0; kx < kernel; kx++, row++)
                {
                    var target = padded.Slice((c * hp + ky) * wp + kx, run);
                    TensorPrimitives.Add(target, columns.Slice(row * rowStride, run), target);
                }
            }
        }
    }
}
