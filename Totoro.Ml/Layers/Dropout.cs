using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// Inverted dropout: in training each unit is kept with probability 1 − rate and scaled by 1/(1 − rate);
/// in evaluation it is the identity. The mask stream is seeded from the model seed, so runs repeat exactly.
/// </summary>
internal sealed class Dropout(TensorShape input, float rate, ulong seed) : Layer(input, input)
{
    private SplitMix64 _random = new(seed);
    private PooledBuffer _mask;

    public override long ForwardFlops => OutputShape.Size;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        var n = batch * InputShape.Size;
        if (!training)
        {
            input[..n].CopyTo(output);
            return;
        }

        var mask = _mask.Span(n);
        var scale = 1f / (1f - rate);
        for (var i = 0; i < n; i++)
        {
            mask[i] = _random.NextSingle() >= rate ? scale : 0f;
        }

        System.Numerics.Tensors.TensorPrimitives.Multiply(input[..n], mask, output[..n]);
    }

    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        if (needInputGradient)
        {
            var n = batch * InputShape.Size;
            System.Numerics.Tensors.TensorPrimitives.Multiply(outputGradient[..n], _mask.Span(n), inputGradient[..n]);
        }
    }

    public override void ReleaseWorkspace() => _mask.Release();
}
