using System.Numerics.Tensors;

namespace Totoro.Ml.Models;

/// <summary>
/// All parameters of a model in one contiguous float array. Layers view slices of the same array,
/// so reading or replacing the model's weights is one copy and no per-layer bookkeeping.
/// </summary>
public sealed class ParameterVector
{
    private readonly float[] _values;

    internal ParameterVector(float[] values) => _values = values;

    public int Length => _values.Length;

    /// <summary>The live parameters; writes change the model.</summary>
    public Span<float> Span => _values;

    public void CopyTo(Span<float> destination) => _values.CopyTo(destination);

    public float[] ToArray() => (float[])_values.Clone();

    public void Set(ReadOnlySpan<float> values)
    {
        CheckLength(values.Length, nameof(values));
        values.CopyTo(_values);
    }

    /// <summary>w ← w + scale·delta (applying an aggregated update).</summary>
    public void Add(ReadOnlySpan<float> delta, float scale = 1f)
    {
        CheckLength(delta.Length, nameof(delta));
        TensorPrimitives.MultiplyAdd(delta, scale, _values, _values);
    }

    /// <summary>destination ← w − reference (the update a worker sends after local training).</summary>
    public void DeltaFrom(ReadOnlySpan<float> reference, Span<float> destination)
    {
        CheckLength(reference.Length, nameof(reference));
        CheckLength(destination.Length, nameof(destination));
        TensorPrimitives.Subtract(_values, reference, destination);
    }

    private void CheckLength(int length, string name)
    {
        if (length != _values.Length)
        {
            throw new ArgumentException($"expected {_values.Length} parameters, got {length}", name);
        }
    }
}
