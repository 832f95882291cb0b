using System.Buffers;

namespace Totoro.Ml.Tensors;

/// <summary>
/// A grow-only float buffer rented from <see cref="ArrayPool{T}.Shared"/>: after the first step at a given
/// batch size, training reuses it and allocates nothing; <see cref="Release"/> hands the memory back.
/// </summary>
internal struct PooledBuffer
{
    private float[]? _array;

    public float[] Ensure(int length)
    {
        if (_array is null || _array.Length < length)
        {
            Release();
            _array = ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
        }

        return _array;
    }

    public Span<float> Span(int length) => Ensure(length).AsSpan(0, length);

    public void Release()
    {
        if (_array is not null)
        {
            ArrayPool<float>.Shared.Return(_array);
            _array = null;
        }
    }
}

/// <summary>The int twin of <see cref="PooledBuffer"/> (pooling arg-max indices).</summary>
internal struct PooledIndexBuffer
{
    private int[]? _array;

    public Span<int> Span(int length)
    {
        if (_array is null || _array.Length < length)
        {
            Release();
            _array = ArrayPool<int>.Shared.Rent(Math.Max(length, 1));
        }

        return _array.AsSpan(0, length);
    }

    public void Release()
    {
        if (_array is not null)
        {
            ArrayPool<int>.Shared.Return(_array);
            _array = null;
        }
    }
}
