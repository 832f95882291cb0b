using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// CHW → vector, for specs that want the reshape spelled out. Row-major CHW already is the flat order
/// and <see cref="Dense"/> flattens implicitly, so the built-in models leave this copy out.
/// </summary>
internal sealed class Flatten(TensorShape input) : Layer(input, TensorShape.Vector(input.Size))
{
    public override long ForwardFlops => 0;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training) =>
        input[..(batch * InputShape.Size)].CopyTo(output);

    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient) =>
        outputGradient[..(batch * InputShape.Size)].CopyTo(inputGradient);
}
