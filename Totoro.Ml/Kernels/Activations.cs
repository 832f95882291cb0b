using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Totoro.Ml.Kernels;

/// <summary>Element-wise non-linearity fused into the layer that produces its input.</summary>
public enum Activation
{
    None,
    Relu,
    Tanh,
    Sigmoid,
}

/// <summary>
/// Activations in place, and their backward passes expressed through the activation's output y
/// (relu' = [y &gt; 0], tanh' = 1 − y², sigmoid' = y(1 − y)), so a layer never keeps its pre-activation.
/// </summary>
internal static class Activations
{
    public static void ForwardInPlace(Activation activation, Span<float> values)
    {
        switch (activation)
        {
            case Activation.Relu:
                TensorPrimitives.Max(values, 0f, values);
                break;
            case Activation.Tanh:
                TensorPrimitives.Tanh(values, values);
                break;
            case Activation.Sigmoid:
                TensorPrimitives.Sigmoid(values, values);
                break;
            default:
                break;
        }
    }

    /// <summary>gradient ⊙= act'(y), in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardInPlace(Activation activation, ReadOnlySpan<float> output, Span<float> gradient)
    {
        switch (activation)
        {
            case Activation.Relu:
                ReluBackward(output, gradient);
                break;
            case Activation.Tanh:
                for (var i = 0; i < gradient.Length; i++)
                {
                    gradient[i] *= 1f - output[i] * output[i];
                }

                break;
            case Activation.Sigmoid:
                for (var i = 0; i < gradient.Length; i++)
                {
                    gradient[i] *= output[i] * (1f - output[i]);
                }

                break;
            default:
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReluBackward(ReadOnlySpan<float> output, Span<float> gradient)
    {
        if (output.Length != gradient.Length)
        {
            throw new ArgumentException("output and gradient lengths differ", nameof(gradient));
        }

        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= gradient.Length - 16; i += 16)
            {
                var y = Vector512.Create(output.Slice(i, 16));
                var g = Vector512.Create(gradient.Slice(i, 16));
                Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), g, Vector512<float>.Zero)
                    .CopyTo(gradient.Slice(i, 16));
            }
        }

        for (; i < gradient.Length; i++)
        {
            gradient[i] = output[i] > 0f ? gradient[i] : 0f;
        }
    }
}
