using Totoro.Ml.Tensors;

namespace Totoro.Ml.Data;

/// <summary>
/// Immutable samples (features already normalised, CHW per sample) and their labels. Shared by every
/// <see cref="Dataset"/> view over it, so a hundred simulated workers hold one copy of the data.
/// </summary>
public sealed class SampleStore
{
    private readonly float[] _features;
    private readonly int[] _labels;

    /// <summary>Takes ownership of the arrays (no copy: the data set may be hundreds of MB); do not modify them afterwards.</summary>
    public SampleStore(float[] features, int[] labels, TensorShape shape, int classes)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Length != labels.Length * shape.Size)
        {
            throw new ArgumentException($"{labels.Length} samples of {shape} need {labels.Length * shape.Size} floats, got {features.Length}", nameof(features));
        }

        foreach (var label in labels)
        {
            if ((uint)label >= (uint)classes)
            {
                throw new ArgumentException($"label {label} outside [0, {classes})", nameof(labels));
            }
        }

        _features = features;
        _labels = labels;
        Shape = shape;
        Classes = classes;
    }

    public TensorShape Shape { get; }

    public int Classes { get; }

    public int Count => _labels.Length;

    public ReadOnlySpan<int> Labels => _labels;

    public ReadOnlySpan<float> Features(int index) => _features.AsSpan(index * Shape.Size, Shape.Size);

    /// <summary>A view of every sample, in order.</summary>
    public Dataset All() => new(this, Enumerable.Range(0, Count).ToArray());

    /// <summary>A copy of samples [<paramref name="from"/>, <paramref name="from"/> + <paramref name="count"/>) as a store of its own.</summary>
    public SampleStore Slice(int from, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from + count, Count);
        var size = Shape.Size;
        return new SampleStore(
            _features.AsSpan(from * size, count * size).ToArray(),
            _labels.AsSpan(from, count).ToArray(),
            Shape,
            Classes);
    }

    /// <summary>A view of the given sample indices (e.g. one partition).</summary>
    public Dataset Subset(int[] indices) => new(this, indices);
}
