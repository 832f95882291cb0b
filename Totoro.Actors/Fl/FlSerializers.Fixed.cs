using Google.Protobuf;
using Totoro.Kernel;
using Totoro.Ml.Serialization;

namespace Totoro.Actors.Fl;

/// <summary>
/// The wire form of a fixed-point partial's sums: every int64 as <c>width</c> bytes of little-endian two's complement,
/// width the fewest bytes (1..8) that hold the largest |sum| (a partial of a few workers needs 6 bytes per coordinate
/// rather than 8). The decoder sign-extends; <see cref="Totoro.Ml.Aggregation.PartialAggregate.TryCreateFixed"/> then
/// checks every value.
/// </summary>
public static partial class FlSerializers
{
    private static ByteString EncodeFixed(ReadOnlySpan<long> sums, int width)
    {
        var bytes = new byte[sums.Length * width];
        for (int i = 0; i < sums.Length; i++)
        {
            ulong v = (ulong)sums[i];
            for (int b = 0; b < width; b++)
            {
                bytes[(i * width) + b] = (byte)(v >> (8 * b));
            }
        }

        return ByteString.CopyFrom(bytes);
    }

    private static long[] DecodeFixed(ByteString wire, int width)
    {
        if (width is < 1 or > 8)
        {
            throw new MessageSerializationException($"fl.subtree-result.v1: fixed-point width {width} outside [1, 8] bytes");
        }

        var bytes = wire.Span;
        if (bytes.Length % width != 0 || bytes.Length / width > CodecLimits.Default.MaxElementCount)
        {
            throw new MessageSerializationException(
                $"fl.subtree-result.v1: {bytes.Length} bytes of fixed-point sums are not whole {width}-byte values within {CodecLimits.Default.MaxElementCount} elements");
        }

        var sums = new long[bytes.Length / width];
        int shift = 64 - (8 * width);
        for (int i = 0; i < sums.Length; i++)
        {
            ulong v = 0;
            for (int b = 0; b < width; b++)
            {
                v |= (ulong)bytes[(i * width) + b] << (8 * b);
            }

            sums[i] = (long)(v << shift) >> shift;
        }

        return sums;
    }
}
