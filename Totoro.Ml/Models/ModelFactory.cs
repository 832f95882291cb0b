using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Models;

/// <summary>
/// Built-in architectures by name: <c>logreg</c>, <c>mlp</c> (hidden 200-200, or <c>mlp:256-128</c>),
/// <c>lenet5</c>, <c>cnn</c>, <c>resnet8</c>. Defaults fit FashionMNIST (1×28×28, 10 classes).
/// </summary>
public static class ModelFactory
{
    public static readonly TensorShape MnistShape = new(1, 28, 28);

    public static IReadOnlyList<string> Names { get; } = ["logreg", "mlp", "lenet5", "cnn", "resnet8"];

    public static Model Create(string name, int seed) => Create(Spec(name, MnistShape, 10), seed);

    public static Model Create(string name, int seed, TensorShape input, int classes) => Create(Spec(name, input, classes), seed);

    public static Model Create(ModelSpec spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new Model(spec, seed);
    }

    /// <summary>
    /// Why <paramref name="name"/> is not a model name this factory knows (null if it is one). Whether the model fits
    /// a given input shape is only known when it is built for it.
    /// </summary>
    public static string? NameError(string name)
    {
        try
        {
            Spec(name, MnistShape, 10);
            return null;
        }
        catch (ArgumentException e)
        {
            return Why(e);
        }
    }

    /// <summary>
    /// Builds <paramref name="name"/> for samples of <paramref name="input"/>'s shape and <paramref name="classes"/>
    /// classes; false, with why, when the name is unknown or the model does not fit that input (LeNet-5 on plain features).
    /// </summary>
    public static bool TryCreate(string name, int seed, TensorShape input, int classes, [NotNullWhen(true)] out Model? model, [NotNullWhen(false)] out string? error)
    {
        try
        {
            model = Create(name, seed, input, classes);
            error = null;
            return true;
        }
        catch (ArgumentException e)
        {
            model = null;
            error = Why(e);
            return false;
        }
    }

    /// <summary>The message without the " (Parameter 'x')" the runtime appends: the C# parameter is noise to a user.</summary>
    private static string Why(ArgumentException e) =>
        e.ParamName is { } parameter ? e.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal) : e.Message;

    public static ModelSpec Spec(string name, TensorShape input, int classes)
    {
        ArgumentNullException.ThrowIfNull(name);
        var (kind, argument) = name.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0
            ? (name[..colon], name[(colon + 1)..])
            : (name, null);
        ImmutableArray<LayerSpec> layers = kind switch
        {
            "logreg" when argument is null => [new DenseSpec(classes)],
            "mlp" => [.. ParseWidths(argument ?? "200-200", name).Select(w => new DenseSpec(w, Activation.Relu)), new DenseSpec(classes)],
            // LeNet-5 with ReLU and max pooling; padding 2 turns 28×28 into the 32×32 the original expects.
            "lenet5" when argument is null =>
            [
                new ConvSpec(6, 5, input.Height == 28 ? 2 : 0, Activation.Relu), new MaxPoolSpec(),
                new ConvSpec(16, 5, 0, Activation.Relu), new MaxPoolSpec(),
                new DenseSpec(120, Activation.Relu), new DenseSpec(84, Activation.Relu), new DenseSpec(classes),
            ],
            "cnn" when argument is null =>
            [
                new ConvSpec(32, 3, 0, Activation.Relu), new ConvSpec(64, 3, 0, Activation.Relu), new MaxPoolSpec(),
                new DenseSpec(128, Activation.Relu), new DenseSpec(classes),
            ],
            // ResNet-8: a stem convolution, three residual blocks (2 convolutions each) and the classifier, with
            // group norm instead of batch norm (batch statistics are meaningless across non-IID clients).
            "resnet8" when argument is null =>
            [
                new ConvSpec(16, 3, 1), new GroupNormSpec(4, Activation.Relu),
                new ResidualSpec(16, 4), new MaxPoolSpec(),
                new ResidualSpec(32, 8), new MaxPoolSpec(),
                new ResidualSpec(64, 8), new AvgPoolSpec(input.Height / 4, input.Height / 4),
                new DenseSpec(classes),
            ],
            _ => throw new ArgumentException($"unknown model '{name}'; known: {string.Join(", ", Names)} (mlp takes widths, e.g. mlp:256-128)", nameof(name)),
        };
        return new ModelSpec(kind, input, layers);
    }

    private static int[] ParseWidths(string text, string name)
    {
        var parts = text.Split('-');
        var widths = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] <= 0)
            {
                throw new ArgumentException($"'{name}': hidden widths must be positive integers separated by '-'", nameof(name));
            }
        }

        return widths;
    }
}
