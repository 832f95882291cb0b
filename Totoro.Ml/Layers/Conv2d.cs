using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// 2-D convolution, stride 1, symmetric zero padding, with a fused activation. W is [out, in·k·k].
/// The whole batch is unfolded into one (in·k·k) × (batch·plane) matrix, so forward and the weight
/// gradient are single GEMMs with a long dimension (small per-sample GEMMs were dominated by edges
/// and call overhead); the columns are kept for backward instead of being rebuilt.
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
    private PooledBuffer _columns;
    private PooledBuffer _columnGradient;
    private PooledBuffer _product;

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
        var columns = Unfold(input, batch);
        var width = batch * _plane;
        var product = _product.Span(_cout * width);
        Gemm.Multiply(false, false, _cout, width, _patch, weights, _patch, columns, width, product, width, accumulate: false);

        // [out, batch·plane] → [batch, out, plane], adding the bias and applying the activation on the way.
        var outSize = OutputShape.Size;
        for (var s = 0; s < batch; s++)
        {
            var y = output.Slice(s * outSize, outSize);
            for (var c = 0; c < _cout; c++)
            {
                TensorPrimitives.Add(product.Slice(c * width + s * _plane, _plane), bias[c], y.Slice(c * _plane, _plane));
            }

            Activations.ForwardInPlace(_activation, y);
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
        var width = batch * _plane;
        var columns = _columns.Span(_patch * width);
        var dyT = _product.Span(_cout * width);
        var outSize = OutputShape.Size;
        for (var s = 0; s < batch; s++)
        {
            var dy = outputGradient.Slice(s * outSize, outSize);
            Activations.BackwardInPlace(_activation, output.Slice(s * outSize, outSize), dy);
            for (var c = 0; c < _cout; c++)
            {
                var plane = dy.Slice(c * _plane, _plane);
                dBias[c] += TensorPrimitives.Sum(plane);
                plane.CopyTo(dyT.Slice(c * width + s * _plane, _plane));
            }
        }

        // The columns from the forward pass are still in place: the model runs backward right after forward.
        Gemm.Multiply(false, true, _cout, _patch, width, dyT, width, columns, width, dWeights, _patch, accumulate: true);
        if (!needInputGradient)
        {
            return;
        }

        // In chunks of samples whose column gradient fits in L2 while it is folded back: one GEMM per
        // chunk keeps small layers out of per-call overhead, large layers out of main memory.
        var chunk = Math.Clamp(L2Floats / (_patch * _plane), 1, batch);
        var dColumns = _columnGradient.Span(_patch * chunk * _plane);
        var inSize = InputShape.Size;
        for (var s0 = 0; s0 < batch; s0 += chunk)
        {
            var count = Math.Min(chunk, batch - s0);
            var span = count * _plane;
            Gemm.Multiply(true, false, _patch, span, _cout, weights, _patch, dyT[(s0 * _plane)..], width, dColumns, span, accumulate: false);
            for (var s = 0; s < count; s++)
            {
                var dx = inputGradient.Slice((s0 + s) * inSize, inSize);
                dx.Clear();
                Im2Col.Accumulate(dColumns[(s * _plane)..], span, _cin, InputShape.Height, InputShape.Width, _kernel, _padding, dx);
            }
        }
    }

    /// <summary>im2col of the whole batch: sample s occupies columns [s·plane, (s+1)·plane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Span<float> Unfold(ReadOnlySpan<float> input, int batch)
    {
        var width = batch * _plane;
        var columns = _columns.Span(_patch * width);
        var inSize = InputShape.Size;
        for (var s = 0; s < batch; s++)
        {
            Im2Col.Unfold(input.Slice(s * inSize, inSize), _cin, InputShape.Height, InputShape.Width, _kernel, _padding,
                columns[(s * _plane)..], width);
        }

        return columns;
    }

    public override void ReleaseWorkspace()
    {
        _columns.Release();
        _columnGradient.Release();
        _product.Release();
    }
}
