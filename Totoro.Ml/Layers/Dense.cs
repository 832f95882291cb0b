using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// Fully connected layer y = act(x·W + b) with W stored [in, out], so the forward pass is a plain NN GEMM.
/// Any input shape is flattened implicitly (row-major CHW is already the flat order).
/// </summary>
internal sealed class Dense(TensorShape input, int units, Activation activation)
    : Layer(input, TensorShape.Vector(units))
{
    private readonly int _in = input.Size;
    private readonly int _out = units;

    public override int ParameterCount => _in * _out + _out;

    public override long ForwardFlops => 2L * _in * _out;

    public override void Initialize(ref SplitMix64 random)
    {
        var p = Parameters;
        InitializeUniform(ref random, p[..(_in * _out)], _in, activation);
        p[(_in * _out)..].Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        var p = Parameters;
        var weights = p[..(_in * _out)];
        var bias = p.Slice(_in * _out, _out);
        for (var s = 0; s < batch; s++)
        {
            bias.CopyTo(output.Slice(s * _out, _out));
        }

        Gemm.Multiply(false, false, batch, _out, _in, input, _in, weights, _out, output, _out, accumulate: true);
        Activations.ForwardInPlace(activation, output[..(batch * _out)]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        var dz = outputGradient[..(batch * _out)];
        Activations.BackwardInPlace(activation, output[..(batch * _out)], dz);
        var g = Gradients;
        var dWeights = g[..(_in * _out)];
        var dBias = g.Slice(_in * _out, _out);
        Gemm.Multiply(true, false, _in, _out, batch, input, _in, dz, _out, dWeights, _out, accumulate: true);
        for (var s = 0; s < batch; s++)
        {
            TensorPrimitives.Add(dBias, dz.Slice(s * _out, _out), dBias);
        }

        if (needInputGradient)
        {
            var weights = Parameters[..(_in * _out)];
            Gemm.Multiply(false, true, batch, _in, _out, dz, _out, weights, _out, inputGradient, _in, accumulate: false);
        }
    }
}
