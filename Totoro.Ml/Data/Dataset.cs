using Totoro.Ml.Tensors;

namespace Totoro.Ml.Data;

/// <summary>
/// One worker's view of a <see cref="SampleStore"/>: an index list, nothing copied.
/// Positions 0…Count−1 address the view, not the store.
/// </summary>
public sealed class Dataset
{
    private readonly int[] _indices;

    internal Dataset(SampleStore store, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        foreach (var index in indices)
        {
            if ((uint)index >= (uint)store.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"index outside the store of {store.Count} samples");
            }
        }

        Store = store;
        _indices = indices;
    }

    public SampleStore Store { get; }

    public int Count => _indices.Length;

    public TensorShape Shape => Store.Shape;

    public int Classes => Store.Classes;

    /// <summary>Store indices of this view.</summary>
    public ReadOnlySpan<int> Indices => _indices;

    public int Label(int position) => Store.Labels[_indices[position]];

    /// <summary>Samples per class in this view (the label skew a partitioner produced).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes];
        foreach (var index in _indices)
        {
            counts[Store.Labels[index]]++;
        }

        return counts;
    }

    /// <summary>Copies the samples at the given view positions into contiguous batch buffers.</summary>
    public void Gather(ReadOnlySpan<int> positions, Span<float> features, Span<int> labels)
    {
        var size = Shape.Size;
        for (var i = 0; i < positions.Length; i++)
        {
            var index = _indices[positions[i]];
            Store.Features(index).CopyTo(features.Slice(i * size, size));
            labels[i] = Store.Labels[index];
        }
    }
}
