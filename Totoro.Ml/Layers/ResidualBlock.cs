using System.Numerics.Tensors;
using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// A basic ResNet block with group normalisation: y = relu(GN(conv(relu(GN(conv(x))))) + skip(x)), both convs
/// 3×3 with padding 1; skip is the identity, or a 1×1 convolution when the channel count changes.
/// Its sub-layers view consecutive slices of the block's parameters, like layers of a model.
/// </summary>
internal sealed class ResidualBlock : Layer
{
    private readonly Layer[] _main;
    private readonly Conv2d? _projection;
    private readonly PooledBuffer[] _outputs;
    private PooledBuffer _skip;
    private PooledBuffer _gradientA;
    private PooledBuffer _gradientB;
    private PooledBuffer _skipGradient;

    public ResidualBlock(TensorShape input, int filters, int groups)
        : base(input, new TensorShape(filters, input.Height, input.Width))
    {
        var convolved = new TensorShape(filters, input.Height, input.Width);
        _main =
        [
            new Conv2d(input, filters, 3, 1, Activation.None),
            new GroupNorm(convolved, groups, Activation.Relu),
            new Conv2d(convolved, filters, 3, 1, Activation.None),
            new GroupNorm(convolved, groups, Activation.None),
        ];
        _projection = input.Channels == filters ? null : new Conv2d(input, filters, 1, 0, Activation.None);
        _outputs = new PooledBuffer[_main.Length];
    }

    public override int ParameterCount => _main.Sum(l => l.ParameterCount) + (_projection?.ParameterCount ?? 0);

    public override long ForwardFlops => _main.Sum(l => l.ForwardFlops) + (_projection?.ForwardFlops ?? 0) + 2L * OutputShape.Size;

    public override void Bind(float[] parameters, float[] gradients, int offset)
    {
        base.Bind(parameters, gradients, offset);
        foreach (var layer in Layers())
        {
            layer.Bind(parameters, gradients, offset);
            offset += layer.ParameterCount;
        }
    }

    public override void Initialize(ref SplitMix64 random)
    {
        foreach (var layer in Layers())
        {
            layer.Initialize(ref random);
        }
    }

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        var n = batch * OutputShape.Size;
        var x = input;
        for (var i = 0; i < _main.Length; i++)
        {
            var y = _outputs[i].Span(n);
            _main[i].Forward(x, y, batch, training);
            x = y;
        }

        ReadOnlySpan<float> skip;
        if (_projection is not null)
        {
            var projected = _skip.Span(n);
            _projection.Forward(input, projected, batch, training);
            skip = projected;
        }
        else
        {
            skip = input[..n];
        }

        TensorPrimitives.Add(x, skip, output[..n]);
        Activations.ForwardInPlace(Activation.Relu, output[..n]);
    }

    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        var n = batch * OutputShape.Size;
        var inSize = batch * InputShape.Size;
        var dy = outputGradient[..n];
        Activations.BackwardInPlace(Activation.Relu, output[..n], dy);

        // The skip path reads the gradient first, because the main path's layers may overwrite it.
        var dxSkip = _skipGradient.Span(inSize);
        if (_projection is not null)
        {
            var copy = _gradientB.Span(n);
            dy.CopyTo(copy);
            _projection.Backward(input, _skip.Span(n), copy, dxSkip, batch, needInputGradient);
        }
        else
        {
            dy.CopyTo(dxSkip);
        }

        var current = _gradientA.Span(Math.Max(n, inSize));
        dy.CopyTo(current);
        var next = _gradientB.Span(Math.Max(n, inSize));
        for (var i = _main.Length - 1; i >= 0; i--)
        {
            ReadOnlySpan<float> x = i == 0 ? input : _outputs[i - 1].Span(n);
            var size = batch * _main[i].InputShape.Size;
            _main[i].Backward(x, _outputs[i].Span(n), current[..n], next[..size], batch, i > 0 || needInputGradient);
            var swap = current;
            current = next;
            next = swap;
        }

        if (needInputGradient)
        {
            TensorPrimitives.Add(current[..inSize], dxSkip, inputGradient[..inSize]);
        }
    }

    public override void ReleaseWorkspace()
    {
        foreach (var layer in Layers())
        {
            layer.ReleaseWorkspace();
        }

        for (var i = 0; i < _outputs.Length; i++)
        {
            _outputs[i].Release();
        }

        _skip.Release();
        _gradientA.Release();
        _gradientB.Release();
        _skipGradient.Release();
    }

    private IEnumerable<Layer> Layers() => _projection is null ? _main : [.. _main, _projection];
}
