using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// 2-D convolution, stride 1, symmetric zero padding, with a fused activation. W is [out, in·k·k].
/// The whole batch is unfolded into one (in·k·k) × (batch·oh·wp) matrix in the shifted-image layout
/// (<see cref="Im2Col"/>), in chunks of samples sized so the column matrix stays in L2: small layers get
/// one GEMM over many samples (per-sample GEMMs were dominated by edges and call overhead), large layers
/// stay out of main memory. Output rows carry the padded input's pitch wp; the surplus columns are dropped
/// when scattering. Backward rebuilds each chunk's columns rather than keeping the batch's.
/// </summary>
internal sealed class Conv2d : Layer
{
    // 1 MiB of floats: the L2 of the benchmark machine's cores.
    private const int L2Floats = 256 * 1024;

    private readonly int _cin;
    private readonly int _cout;
    private readonly int _kernel;
    private readonly int _padding;
    private readonly Activation _activation;
    private readonly int _patch;
    private readonly int _plane;
    private readonly int _pitch;
    private readonly int _paddedHeight;
    private readonly int _pitchedPlane;
    private PooledBuffer _columns;
    private PooledBuffer _columnGradient;
    private PooledBuffer _product;
    private PooledBuffer _padded;

    public Conv2d(TensorShape input, int filters, int kernel, int padding, Activation activation)
        : base(input, OutputOf(input, filters, kernel, padding))
    {
        _cin = input.Channels;
        _cout = filters;
        _kernel = kernel;
        _padding = padding;
        _activation = activation;
        _patch = _cin * kernel * kernel;
        _plane = OutputShape.Height * OutputShape.Width;
        _pitch = input.Width + 2 * padding;
        _paddedHeight = input.Height + 2 * padding;
        _pitchedPlane = OutputShape.Height * _pitch;
    }

    public override int ParameterCount => _cout * _patch + _cout;

    public override long ForwardFlops => 2L * _cout * _patch * _plane;

    public static TensorShape OutputOf(TensorShape input, int filters, int kernel, int padding)
    {
        var h = input.Height + 2 * padding - kernel + 1;
        var w = input.Width + 2 * padding - kernel + 1;
        if (h <= 0 || w <= 0)
        {
            throw new ArgumentException($"a {kernel}x{kernel} kernel with padding {padding} does not fit a {input} input");
        }

        return new TensorShape(filters, h, w);
    }

    public override void Initialize(ref SplitMix64 random)
    {
        var p = Parameters;
        InitializeUniform(ref random, p[..(_cout * _patch)], _patch, _activation);
        p[(_cout * _patch)..].Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        var p = Parameters;
        var weights = p[..(_cout * _patch)];
        var bias = p.Slice(_cout * _patch, _cout);
        var chunk = ChunkFor(batch);
        var (oh, ow) = (OutputShape.Height, OutputShape.Width);
        var outSize = OutputShape.Size;
        for (var s0 = 0; s0 < batch; s0 += chunk)
        {
            var count = Math.Min(chunk, batch - s0);
            var width = count * _pitchedPlane;
            var columns = Unfold(input, s0, count);
            var product = _product.Span(_cout * width);
            Gemm.Multiply(false, false, _cout, width, _patch, weights, _patch, columns, width, product, width, accumulate: false);

            // [out, count·oh·wp] → [sample, out, oh, ow]: drop the pitch columns, add the bias, apply the activation.
            for (var s = 0; s < count; s++)
            {
                var y = output.Slice((s0 + s) * outSize, outSize);
                for (var c = 0; c < _cout; c++)
                {
                    var source = product.Slice(c * width + s * _pitchedPlane, _pitchedPlane);
                    var target = y.Slice(c * _plane, _plane);
                    for (var oy = 0; oy < oh; oy++)
                    {
                        TensorPrimitives.Add(source.Slice(oy * _pitch, ow), bias[c], target.Slice(oy * ow, ow));
                    }
                }

                Activations.ForwardInPlace(_activation, y);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        var weights = Parameters[..(_cout * _patch)];
        var g = Gradients;
        var dWeights = g[..(_cout * _patch)];
        var dBias = g.Slice(_cout * _patch, _cout);
        var chunk = ChunkFor(batch);
        var (oh, ow) = (OutputShape.Height, OutputShape.Width);
        var outSize = OutputShape.Size;
        var inSize = InputShape.Size;
        for (var s0 = 0; s0 < batch; s0 += chunk)
        {
            var count = Math.Min(chunk, batch - s0);
            var width = count * _pitchedPlane;
            var dyT = _product.Span(_cout * width);
            for (var s = 0; s < count; s++)
            {
                var dy = outputGradient.Slice((s0 + s) * outSize, outSize);
                Activations.BackwardInPlace(_activation, output.Slice((s0 + s) * outSize, outSize), dy);
                for (var c = 0; c < _cout; c++)
                {
                    var plane = dy.Slice(c * _plane, _plane);
                    dBias[c] += TensorPrimitives.Sum(plane);
                    var target = dyT.Slice(c * width + s * _pitchedPlane, _pitchedPlane);
                    for (var oy = 0; oy < oh; oy++)
                    {
                        plane.Slice(oy * ow, ow).CopyTo(target.Slice(oy * _pitch, ow));
                        target.Slice(oy * _pitch + ow, _pitch - ow).Clear();
                    }
                }
            }

            // Rebuilding the chunk's columns costs one L2-resident copy; keeping the whole batch's would not fit.
            var columns = Unfold(input, s0, count);
            Gemm.Multiply(false, true, _cout, _patch, width, dyT, width, columns, width, dWeights, _patch, accumulate: true);
            if (!needInputGradient)
            {
                continue;
            }

            var dColumns = _columnGradient.Span(_patch * width);
            Gemm.Multiply(true, false, _patch, width, _cout, weights, _patch, dyT, width, dColumns, width, accumulate: false);
            var padded = _padded.Span(_cin * _paddedHeight * _pitch);
            for (var s = 0; s < count; s++)
            {
                var dx = inputGradient.Slice((s0 + s) * inSize, inSize);
                var target = _padding > 0 ? padded : dx;
                target.Clear();
                Im2Col.Accumulate(dColumns[(s * _pitchedPlane)..], width, _cin, _paddedHeight, _pitch, _kernel, target);
                if (_padding > 0)
                {
                    Im2Col.Crop(padded, _cin, InputShape.Height, InputShape.Width, _padding, dx);
                }
            }
        }
    }

    /// <summary>Samples per GEMM: as many as keep the column matrix within L2 (at least one).</summary>
    private int ChunkFor(int batch) => Math.Clamp(L2Floats / (_patch * _pitchedPlane), 1, batch);

    /// <summary>im2col of samples [first, first + count): sample s occupies columns [s·oh·wp, (s+1)·oh·wp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Span<float> Unfold(ReadOnlySpan<float> input, int first, int count)
    {
        var width = count * _pitchedPlane;
        var columns = _columns.Span(_patch * width);
        var padded = _padded.Span(_cin * _paddedHeight * _pitch);
        var inSize = InputShape.Size;
        for (var s = 0; s < count; s++)
        {
            var image = input.Slice((first + s) * inSize, inSize);
            if (_padding > 0)
            {
                Im2Col.Pad(image, _cin, InputShape.Height, InputShape.Width, _padding, padded);
                image = padded;
            }

            Im2Col.Unfold(image, _cin, _paddedHeight, _pitch, _kernel, columns[(s * _pitchedPlane)..], width);
        }

        return columns;
    }

    public override void ReleaseWorkspace()
    {
        _columns.Release();
        _columnGradient.Release();
        _product.Release();
        _padded.Release();
    }
}
