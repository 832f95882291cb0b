using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Totoro.Ml.Kernels;

/// <summary>
/// Softmax and cross-entropy in one pass: the gradient of the mean loss with respect to the logits is
/// (softmax − one-hot) / batch, so the probabilities never need a separate buffer.
/// </summary>
internal static class SoftmaxCrossEntropy
{
    /// <returns>Sum (not mean) of the per-sample losses.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, Span<float> logitGradient, float gradientScale)
    {
        var batch = labels.Length;
        var total = 0.0;
        for (var s = 0; s < batch; s++)
        {
            var z = logits.Slice(s * classes, classes);
            var label = labels[s];
            if ((uint)label >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"label outside [0, {classes})");
            }

            var max = TensorPrimitives.Max(z);
            var g = logitGradient.Slice(s * classes, classes);
            TensorPrimitives.Subtract(z, max, g);
            TensorPrimitives.Exp(g, g);
            var sum = TensorPrimitives.Sum(g);
            total += Math.Log(sum) - (z[label] - max);
            TensorPrimitives.Multiply(g, gradientScale / sum, g);
            g[label] -= gradientScale;
        }

        return total;
    }

    /// <summary>Loss sum only, for evaluation; also counts correct arg-max predictions per class.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Evaluate(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, Span<int> correctPerClass, Span<int> totalPerClass)
    {
        var total = 0.0;
        for (var s = 0; s < labels.Length; s++)
        {
            var z = logits.Slice(s * classes, classes);
            var label = labels[s];
            var max = TensorPrimitives.Max(z);
            var sum = 0.0;
            for (var c = 0; c < classes; c++)
            {
                sum += Math.Exp(z[c] - max);
            }

            total += Math.Log(sum) - (z[label] - max);
            totalPerClass[label]++;
            if (TensorPrimitives.IndexOfMax(z) == label)
            {
                correctPerClass[label]++;
            }
        }

        return total;
    }
}
