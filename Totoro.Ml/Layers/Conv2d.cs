using System.Numerics.Tensors;
using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// 2-D convolution, stride 1, symmetric zero padding, with a fused activation; im2col + GEMM per sample.
/// W is [out, in·k·k]; the column buffer is rebuilt in backward instead of stored for the whole batch,
/// which keeps the working set in L2 (it costs one copy, far less than the GEMMs it feeds).
/// </summary>
internal sealed class Conv2d : Layer
{
    private readonly int _cin;
    private readonly int _cout;
    private readonly int _kernel;
    private readonly int _padding;
    private readonly Activation _activation;
    private readonly int _patch;
    private readonly int _plane;
    private PooledBuffer _columns;
    private PooledBuffer _columnGradient;

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

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        var p = Parameters;
        var weights = p[..(_cout * _patch)];
        var bias = p.Slice(_cout * _patch, _cout);
        var columns = _columns.Span(_patch * _plane);
        var inSize = InputShape.Size;
        var outSize = OutputShape.Size;
        for (var s = 0; s < batch; s++)
        {
            Im2Col.Unfold(input.Slice(s * inSize, inSize), _cin, InputShape.Height, InputShape.Width, _kernel, _padding, columns);
            var y = output.Slice(s * outSize, outSize);
            for (var c = 0; c < _cout; c++)
            {
                y.Slice(c * _plane, _plane).Fill(bias[c]);
            }

            Gemm.Multiply(false, false, _cout, _plane, _patch, weights, _patch, columns, _plane, y, _plane, accumulate: true);
            Activations.ForwardInPlace(_activation, y);
        }
    }

    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        var weights = Parameters[..(_cout * _patch)];
        var g = Gradients;
        var dWeights = g[..(_cout * _patch)];
        var dBias = g.Slice(_cout * _patch, _cout);
        var columns = _columns.Span(_patch * _plane);
        var dColumns = needInputGradient ? _columnGradient.Span(_patch * _plane) : default;
        var inSize = InputShape.Size;
        var outSize = OutputShape.Size;
        for (var s = 0; s < batch; s++)
        {
            var dy = outputGradient.Slice(s * outSize, outSize);
            Activations.BackwardInPlace(_activation, output.Slice(s * outSize, outSize), dy);
            for (var c = 0; c < _cout; c++)
            {
                dBias[c] += TensorPrimitives.Sum(dy.Slice(c * _plane, _plane));
            }

            var x = input.Slice(s * inSize, inSize);
            Im2Col.Unfold(x, _cin, InputShape.Height, InputShape.Width, _kernel, _padding, columns);
            Gemm.Multiply(false, true, _cout, _patch, _plane, dy, _plane, columns, _plane, dWeights, _patch, accumulate: true);
            if (needInputGradient)
            {
                Gemm.Multiply(true, false, _patch, _plane, _cout, weights, _patch, dy, _plane, dColumns, _plane, accumulate: false);
                var dx = inputGradient.Slice(s * inSize, inSize);
                dx.Clear();
                Im2Col.Accumulate(dColumns, _cin, InputShape.Height, InputShape.Width, _kernel, _padding, dx);
            }
        }
    }

    public override void ReleaseWorkspace()
    {
        _columns.Release();
        _columnGradient.Release();
    }
}
