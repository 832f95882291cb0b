using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>Max pooling; remembers the arg-max of every window for the backward scatter.</summary>
internal sealed class MaxPool2d(TensorShape input, int window, int stride)
    : Layer(input, Pool2dShape.Of(input, window, stride))
{
    private PooledIndexBuffer _argmax;

    public override long ForwardFlops => (long)OutputShape.Size * window * window;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        Pooling.MaxForward(input, batch * InputShape.Channels, InputShape.Height, InputShape.Width, window, stride,
            output, _argmax.Span(batch * OutputShape.Size));

    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        if (needInputGradient)
        {
            Pooling.MaxBackward(outputGradient[..(batch * OutputShape.Size)], _argmax.Span(batch * OutputShape.Size),
                inputGradient[..(batch * InputShape.Size)]);
        }
    }

    public override void ReleaseWorkspace() => _argmax.Release();
}

/// <summary>Average pooling (LeNet's original subsampling).</summary>
internal sealed class AvgPool2d(TensorShape input, int window, int stride)
    : Layer(input, Pool2dShape.Of(input, window, stride))
{
    public override long ForwardFlops => (long)OutputShape.Size * window * window;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        Pooling.AverageForward(input, batch * InputShape.Channels, InputShape.Height, InputShape.Width, window, stride, output);

    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        if (needInputGradient)
        {
            Pooling.AverageBackward(outputGradient, batch * InputShape.Channels, InputShape.Height, InputShape.Width,
                window, stride, inputGradient[..(batch * InputShape.Size)]);
        }
    }
}

internal static class Pool2dShape
{
    public static TensorShape Of(TensorShape input, int window, int stride)
    {
        if (window < 1 || stride < 1 || window > input.Height || window > input.Width)
        {
            throw new ArgumentException($"pooling window {window} stride {stride} does not fit a {input} input");
        }

        return new TensorShape(input.Channels, Pooling.OutputSize(input.Height, window, stride), Pooling.OutputSize(input.Width, window, stride));
    }
}
