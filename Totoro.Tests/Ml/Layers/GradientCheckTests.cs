using System.Collections.Immutable;
using Totoro.Ml.Kernels;
using Totoro.Ml.Models;
using Totoro.Ml.Tensors;

namespace Totoro.Tests.Ml.Layers;

/// <summary>
/// Central finite differences against the analytic gradient of the mean cross-entropy. Each layer under test
/// sits between parameterised layers, so both its parameter gradient and its input gradient are exercised
/// (a wrong input gradient corrupts the gradients of the layers before it).
/// </summary>
public sealed class GradientCheckTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        var vector = TensorShape.Vector(7);
        var image = new TensorShape(2, 7, 6);
        foreach (var act in new[] { Activation.None, Activation.Tanh, Activation.Sigmoid, Activation.Relu })
        {
            yield return Case($"dense {act}", vector, new DenseSpec(5, act), new DenseSpec(4, Activation.Tanh), new DenseSpec(3));
            yield return Case($"conv {act}", image, new ConvSpec(3, 3, 1, Activation.Tanh), new ConvSpec(4, 3, 0, act), new DenseSpec(3));
        }

        yield return Case("conv padding 2, 5x5", new TensorShape(1, 8, 8), new ConvSpec(2, 5, 2, Activation.Tanh), new ConvSpec(3, 5, 0, Activation.Tanh), new DenseSpec(3));
        yield return Case("max pool", image, new ConvSpec(3, 3, 1, Activation.Tanh), new MaxPoolSpec(), new DenseSpec(3));
        yield return Case("max pool, overlapping 3/1", image, new ConvSpec(3, 3, 1, Activation.Tanh), new MaxPoolSpec(3, 1), new DenseSpec(3));
        yield return Case("avg pool", image, new ConvSpec(3, 3, 1, Activation.Tanh), new AvgPoolSpec(), new DenseSpec(3));
        yield return Case("flatten", image, new ConvSpec(3, 3, 1, Activation.Tanh), new FlattenSpec(), new DenseSpec(3));
        yield return Case("group norm", image, new ConvSpec(4, 3, 1), new GroupNormSpec(2, Activation.Tanh), new DenseSpec(3));
        yield return Case("group norm, relu", image, new ConvSpec(4, 3, 1), new GroupNormSpec(4, Activation.Relu), new DenseSpec(3));
        yield return Case("residual, identity skip", image, new ConvSpec(4, 3, 1, Activation.Tanh), new ResidualSpec(4, 2), new DenseSpec(3));
        yield return Case("residual, projection skip", image, new ConvSpec(2, 3, 1, Activation.Tanh), new ResidualSpec(4, 2), new DenseSpec(3));
        yield return Case("resnet8 on 8x8", new TensorShape(1, 8, 8), [.. ModelFactory.Spec("resnet8", new TensorShape(1, 8, 8), 3).Layers]);
        yield return Case("lenet5 on 28x28", ModelFactory.MnistShape, [.. ModelFactory.Spec("lenet5", ModelFactory.MnistShape, 10).Layers]);
    }

    [TestCaseSource(nameof(Cases))]
    public void Analytic_gradient_matches_finite_differences(ModelSpec spec)
    {
        var model = ModelFactory.Create(spec, seed: 11);
        const int batch = 3;
        var inputs = TestData.Uniform(batch * spec.Input.Size, 5);
        var labels = TestData.Labels(batch, model.Classes, 6);
        model.ComputeGradients(inputs, labels);
        var analytic = model.Gradients.ToArray();

        // Float32 forward passes: 2e-3 keeps rounding noise below the tolerance while rarely crossing a ReLU or max kink.
        const float eps = 2e-3f;
        var parameters = model.Parameters;
        var random = new SplitMix64(99);
        var checkedCount = Math.Min(parameters.Length, 60);
        double diff = 0, norm = 0;
        for (var t = 0; t < checkedCount; t++)
        {
            var i = checkedCount == parameters.Length ? t : random.NextInt(parameters.Length);
            var saved = parameters.Span[i];
            parameters.Span[i] = saved + eps;
            var plus = model.ComputeGradients(inputs, labels);
            parameters.Span[i] = saved - eps;
            var minus = model.ComputeGradients(inputs, labels);
            parameters.Span[i] = saved;
            var numeric = (plus - minus) / (2 * eps);
            diff += (numeric - analytic[i]) * (numeric - analytic[i]);
            norm += analytic[i] * analytic[i] + numeric * numeric;
        }

        var relative = Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-6);
        Assert.That(norm, Is.GreaterThan(1e-8), "the checked gradients must not all vanish");
        Assert.That(relative, Is.LessThan(spec.Layers.Any(l => l is DenseSpec { Activation: Activation.Relu } or ConvSpec { Activation: Activation.Relu } or MaxPoolSpec
            or GroupNormSpec { Activation: Activation.Relu } or ResidualSpec) ? 3e-2 : 1e-2));
    }

    private static TestCaseData Case(string name, TensorShape input, params LayerSpec[] layers) =>
        new TestCaseData(new ModelSpec(name, input, [.. layers])).SetArgDisplayNames(name);
}
