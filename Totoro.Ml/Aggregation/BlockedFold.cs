namespace Totoro.Ml.Aggregation;

/// <summary>
/// The blocked, optionally parallel loops behind <see cref="UpdateAccumulator.AccumulateBatch"/>,
/// <see cref="UpdateAccumulator.MergeBatch"/> and <see cref="UpdateAccumulator.ToPartial"/>.
/// <para>
/// The vector is cut into blocks of at most <see cref="MaxBlockElements"/> coordinates, as many blocks as a
/// multiple of the thread count so that both cores get the same amount of work. Every coordinate's sum is
/// computed by one thread in a fixed order (input 0, 1, 2, …, in float32 groups of four), so block
/// boundaries and the thread count never change a single bit of the result.
/// </para>
/// </summary>
internal static class BlockedFold
{
    /// <summary>
    /// At most 32768 float64 sums (256 KiB) per block: they stay in the 1 MiB L2 while every input streams
    /// through them, so main memory sees each input byte once, and each input is read in runs of up to
    /// 128 KiB, which the hardware prefetcher favours (an early probe measured 8K-float blocks clearly slower).
    /// </summary>
    public const int MaxBlockElements = 32768;

    /// <summary>Inputs per pass over a block: eight, as two float32 groups of four (see <see cref="AggregationKernels.AddScaled8"/>).</summary>
    private const int InputsPerPass = 8;

    /// <summary>
    /// Writes Σ coefficientᵢ·vectorᵢ into <paramref name="target"/> (its old contents are ignored): four
    /// vectors per float32 group, or one at a time entirely in float64 when <paramref name="wide"/>.
    /// Returns false if any sum is non-finite.
    /// </summary>
    public static bool Sum(IReadOnlyList<ReadOnlyMemory<float>> vectors, double[] coefficients, bool wide, double[] target, int maxThreads)
    {
        var (blocks, blockLength) = Partition(target.Length, maxThreads);
        int threads = Math.Min(maxThreads, blocks);
        if (threads <= 1)
        {
            bool finite = true;
            for (int b = 0; b < blocks; b++)
            {
                finite &= SumBlock(vectors, coefficients, wide, target, b * blockLength, blockLength);
            }

            return finite;
        }

        var finiteByBlock = new bool[blocks];
        Parallel.For(
            0,
            blocks,
            new ParallelOptions { MaxDegreeOfParallelism = threads },
            b => finiteByBlock[b] = SumBlock(vectors, coefficients, wide, target, b * blockLength, blockLength));
        return Array.TrueForAll(finiteByBlock, f => f);
    }

    /// <summary>dst[i] = (float)(src[i] · scale), split over the same blocks as <see cref="Sum"/>.</summary>
    public static void ScaleNarrow(double[] source, double scale, float[] destination, int maxThreads)
    {
        var (blocks, blockLength) = Partition(source.Length, maxThreads);
        int threads = Math.Min(maxThreads, blocks);
        if (threads <= 1)
        {
            AggregationKernels.ScaleNarrow(source, scale, destination);
            return;
        }

        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
        {
            int start = b * blockLength;
            int length = Math.Min(blockLength, source.Length - start);
            if (length > 0)
            {
                AggregationKernels.ScaleNarrow(source.AsSpan(start, length), scale, destination.AsSpan(start, length));
            }
        });
    }

    /// <summary>
    /// Block count (a multiple of the thread count) and block length (a multiple of 16 floats, one Vector512
    /// of float32, so no block but the last has a scalar tail).
    /// </summary>
    internal static (int Blocks, int BlockLength) Partition(int elements, int threads)
    {
        if (elements == 0)
        {
            return (0, MaxBlockElements);
        }

        int perThread = Math.Max(1, threads);
        int blocks = (elements + MaxBlockElements - 1) / MaxBlockElements;
        blocks = (blocks + perThread - 1) / perThread * perThread;
        int blockLength = (((elements + blocks - 1) / blocks) + 15) & ~15;
        return ((elements + blockLength - 1) / blockLength, blockLength);
    }

    private static bool SumBlock(
        IReadOnlyList<ReadOnlyMemory<float>> vectors, double[] coefficients, bool wide, double[] target, int start, int blockLength)
    {
        int length = Math.Min(blockLength, target.Length - start);
        var block = target.AsSpan(start, length);
        int k = 0;
        bool first = true;
        for (; !wide && k + InputsPerPass <= vectors.Count; k += InputsPerPass, first = false)
        {
            AggregationKernels.AddScaled8(
                vectors[k].Span.Slice(start, length), vectors[k + 1].Span.Slice(start, length),
                vectors[k + 2].Span.Slice(start, length), vectors[k + 3].Span.Slice(start, length),
                vectors[k + 4].Span.Slice(start, length), vectors[k + 5].Span.Slice(start, length),
                vectors[k + 6].Span.Slice(start, length), vectors[k + 7].Span.Slice(start, length),
                coefficients.AsSpan(k, InputsPerPass),
                block,
                overwrite: first);
        }

        for (; !wide && k + 4 <= vectors.Count; k += 4, first = false)
        {
            AggregationKernels.AddScaled4(
                vectors[k].Span.Slice(start, length),
                vectors[k + 1].Span.Slice(start, length),
                vectors[k + 2].Span.Slice(start, length),
                vectors[k + 3].Span.Slice(start, length),
                coefficients[k], coefficients[k + 1], coefficients[k + 2], coefficients[k + 3],
                block,
                overwrite: first);
        }

        if (first)
        {
            block.Clear();
        }

        for (; k < vectors.Count; k++)
        {
            AggregationKernels.AddScaled(vectors[k].Span.Slice(start, length), coefficients[k], block);
        }

        return AggregationKernels.AllFinite(block);
    }
}
