using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Models;

/// <summary>A sequential architecture: input shape, layers, number of classes (the last layer's width).</summary>
public sealed record ModelSpec(string Name, TensorShape Input, ImmutableArray<LayerSpec> Layers)
{
    /// <summary>Canonical text of the whole architecture, e.g. <c>1x28x28|conv(6,k5,p2,Relu)|…</c>.</summary>
    public string Canonical => Input + "|" + string.Join('|', Layers.Select(l => l.Canonical));

    /// <summary>First 16 hex digits of SHA-256 over <see cref="Canonical"/>: equal ids mean interchangeable parameter vectors.</summary>
    public string ArchitectureId => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical)))[..16];

    public bool Equals(ModelSpec? other) =>
        other is not null && Name == other.Name && Canonical == other.Canonical;

    public override int GetHashCode() => HashCode.Combine(Name, Canonical);
}
