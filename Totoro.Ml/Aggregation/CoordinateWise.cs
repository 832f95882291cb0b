namespace Totoro.Ml.Aggregation;

/// <summary>
/// Per-coordinate order statistics over n updates in O(n·d): coordinates are taken in tiles, transposed
/// into a small scratch (tile × n floats, L1-resident) and each coordinate's n values are reduced by
/// quickselect rather than a full sort.
/// </summary>
internal static class CoordinateWise
{
    private const int TileCoordinates = 64;

    /// <summary>Calls <paramref name="reduce"/> with the n values of each coordinate (in arbitrary order; it may reorder them).</summary>
    public static float[] Reduce(List<ClientUpdate> updates, int elementCount, Func<Span<float>, float> reduce)
    {
        int n = updates.Count;
        var result = new float[elementCount];
        var scratch = new float[TileCoordinates * n];
        for (int start = 0; start < elementCount; start += TileCoordinates)
        {
            int length = Math.Min(TileCoordinates, elementCount - start);
            for (int k = 0; k < n; k++)
            {
                var slice = updates[k].Delta.Span.Slice(start, length);
                for (int t = 0; t < length; t++)
                {
                    scratch[(t * n) + k] = slice[t];
                }
            }

            for (int t = 0; t < length; t++)
            {
                result[start + t] = reduce(scratch.AsSpan(t * n, n));
            }
        }

        return result;
    }

    /// <summary>
    /// Rearranges <paramref name="values"/> so that values[k] is the k-th smallest, everything before it is
    /// ≤ and everything after it is ≥ (Hoare quickselect, median-of-three pivot; deterministic).
    /// </summary>
    public static float Select(Span<float> values, int k)
    {
        int lo = 0, hi = values.Length - 1;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (values[mid] < values[lo])
            {
                (values[mid], values[lo]) = (values[lo], values[mid]);
            }

            if (values[hi] < values[lo])
            {
                (values[hi], values[lo]) = (values[lo], values[hi]);
            }

            if (values[hi] < values[mid])
            {
                (values[hi], values[mid]) = (values[mid], values[hi]);
            }

            float pivot = values[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                break;
            }
        }

        return values[k];
    }

    /// <summary>The median; for even n the mean of the two middle values (numpy's convention, as in Flower's FedMedian).</summary>
    public static float Median(Span<float> values)
    {
        int n = values.Length;
        float upper = Select(values, n / 2);
        if ((n & 1) == 1)
        {
            return upper;
        }

        float lower = values[0];
        for (int i = 1; i < n / 2; i++)
        {
            lower = Math.Max(lower, values[i]);
        }

        return (float)((lower + (double)upper) / 2);
    }

    /// <summary>Mean of the values left after dropping the <paramref name="cut"/> smallest and <paramref name="cut"/> largest.</summary>
    public static float TrimmedMean(Span<float> values, int cut)
    {
        int n = values.Length;
        Select(values, cut);
        Select(values[cut..], n - (2 * cut) - 1);
        double sum = 0;
        foreach (float v in values.Slice(cut, n - (2 * cut)))
        {
            sum += v;
        }

        return (float)(sum / (n - (2 * cut)));
    }
}
