using System.Globalization;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The wire form of a fixed-point partial's int64 sums: the vector in blocks of <c>block</c> coordinates (the last may
/// be shorter), each block one width byte w ∈ [1, 8] — the fewest bytes of two's complement that hold the block's
/// largest |sum| — then w little-endian bytes per coordinate. Model updates vary in magnitude between layers, so
/// per-block widths cost well under the 8 bytes of a plain int64 (docs/aggregation.md, "The exact fold").
/// Lossless: the decoder sign-extends, and returns exactly the sums that were encoded.
/// </summary>
public static class FixedPointCodec
{
    /// <summary>64 coordinates per width byte: 1/64 byte of overhead per coordinate.</summary>
    public const int DefaultBlock = 64;

    public const int MaxBlock = 65536;

    public static int EncodedLength(ReadOnlySpan<long> sums, int block = DefaultBlock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(block, 1);
        long length = 0;
        for (int start = 0; start < sums.Length; start += block)
        {
            var slice = sums.Slice(start, Math.Min(block, sums.Length - start));
            length += 1 + ((long)FixedPointKernels.BytesFor(FixedPointKernels.MaxAbs(slice)) * slice.Length);
        }

        return checked((int)length);
    }

    public static byte[] Encode(ReadOnlySpan<long> sums, int block = DefaultBlock)
    {
        var bytes = new byte[EncodedLength(sums, block)];
        int at = 0;
        for (int start = 0; start < sums.Length; start += block)
        {
            var slice = sums.Slice(start, Math.Min(block, sums.Length - start));
            int width = FixedPointKernels.BytesFor(FixedPointKernels.MaxAbs(slice));
            bytes[at++] = (byte)width;
            foreach (long value in slice)
            {
                ulong v = (ulong)value;
                for (int b = 0; b < width; b++)
                {
                    bytes[at++] = (byte)(v >> (8 * b));
                }
            }
        }

        return bytes;
    }

    /// <summary>Decodes <paramref name="elementCount"/> sums; false, with the reason, on any malformed byte or length.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, int elementCount, int block, out long[] sums, out string error)
    {
        sums = [];
        if (block is < 1 or > MaxBlock || elementCount < 0)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"block {block} outside [1, {MaxBlock}] or element count {elementCount} negative");
            return false;
        }

        var decoded = new long[elementCount];
        int at = 0;
        for (int start = 0; start < elementCount; start += block)
        {
            int count = Math.Min(block, elementCount - start);
            int width = at < bytes.Length ? bytes[at++] : 0;
            if (width is < 1 or > 8 || bytes.Length - at < (long)width * count)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"block at coordinate {start}: width {width} outside [1, 8] or fewer bytes than it needs");
                return false;
            }

            int shift = 64 - (8 * width);
            for (int i = 0; i < count; i++)
            {
                ulong v = 0;
                for (int b = 0; b < width; b++)
                {
                    v |= (ulong)bytes[at++] << (8 * b);
                }

                decoded[start + i] = (long)(v << shift) >> shift;
            }
        }

        if (at != bytes.Length)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"{bytes.Length - at} bytes after the last of {elementCount} sums");
            return false;
        }

        sums = decoded;
        error = "";
        return true;
    }
}
