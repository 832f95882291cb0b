using System.Globalization;
using Totoro.Ml.Kernels;
using Totoro.Ml.Layers;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Models;

/// <summary>
/// Declarative description of one layer. A model is a list of these; their canonical text is what the
/// architecture id hashes, so two nodes agree on an architecture without exchanging code.
/// </summary>
public abstract record LayerSpec
{
    /// <summary>Stable text form, part of the architecture id; never change an existing one.</summary>
    public abstract string Canonical { get; }

    internal abstract Layer Build(TensorShape input, ulong seed);
}

/// <summary>Fully connected layer; flattens its input.</summary>
public sealed record DenseSpec(int Units, Activation Activation = Activation.None) : LayerSpec
{
    public override string Canonical => string.Create(CultureInfo.InvariantCulture, $"dense({Units},{Activation})");

    internal override Layer Build(TensorShape input, ulong seed) => new Dense(input, Units, Activation);
}

/// <summary>Square 2-D convolution, stride 1.</summary>
public sealed record ConvSpec(int Filters, int Kernel, int Padding = 0, Activation Activation = Activation.None) : LayerSpec
{
    public override string Canonical => string.Create(CultureInfo.InvariantCulture, $"conv({Filters},k{Kernel},p{Padding},{Activation})");

    internal override Layer Build(TensorShape input, ulong seed) => new Conv2d(input, Filters, Kernel, Padding, Activation);
}

public sealed record MaxPoolSpec(int Window = 2, int Stride = 2) : LayerSpec
{
    public override string Canonical => string.Create(CultureInfo.InvariantCulture, $"maxpool({Window},{Stride})");

    internal override Layer Build(TensorShape input, ulong seed) => new MaxPool2d(input, Window, Stride);
}

public sealed record AvgPoolSpec(int Window = 2, int Stride = 2) : LayerSpec
{
    public override string Canonical => string.Create(CultureInfo.InvariantCulture, $"avgpool({Window},{Stride})");

    internal override Layer Build(TensorShape input, ulong seed) => new AvgPool2d(input, Window, Stride);
}

public sealed record FlattenSpec : LayerSpec
{
    public override string Canonical => "flatten";

    internal override Layer Build(TensorShape input, ulong seed) => new Flatten(input);
}

/// <summary>Inverted dropout with the given drop rate in [0, 1).</summary>
public sealed record DropoutSpec(float Rate) : LayerSpec
{
    public override string Canonical => string.Create(CultureInfo.InvariantCulture, $"dropout({Rate:R})");

    internal override Layer Build(TensorShape input, ulong seed)
    {
        if (Rate is < 0f or >= 1f)
        {
            throw new ArgumentOutOfRangeException(nameof(Rate), Rate, "dropout rate must be in [0, 1)");
        }

        return new Dropout(input, Rate, seed);
    }
}

/// <summary>Group normalisation over <see cref="Groups"/> channel groups, with a fused activation.</summary>
public sealed record GroupNormSpec(int Groups, Activation Activation = Activation.None) : LayerSpec
{
    public override string Canonical => string.Create(CultureInfo.InvariantCulture, $"groupnorm({Groups},{Activation})");

    internal override Layer Build(TensorShape input, ulong seed) => new GroupNorm(input, Groups, Activation);
}

/// <summary>Basic residual block: two 3×3 convolutions with group norm, identity or 1×1 projection skip.</summary>
public sealed record ResidualSpec(int Filters, int Groups) : LayerSpec
{
    public override string Canonical => string.Create(CultureInfo.InvariantCulture, $"residual({Filters},g{Groups})");

    internal override Layer Build(TensorShape input, ulong seed) => new ResidualBlock(input, Filters, Groups);
}
