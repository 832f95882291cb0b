using System.Globalization;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The wire form of a fixed-point partial's int64 sums: the vector in blocks of <c>block</c> coordinates (the last may
/// be shorter), each block one byte b ∈ [1, 64] — the fewest bits of two's complement that hold the block's largest
/// |sum| — then the block's values packed b bits each, least significant bit first, padded to a whole byte. Model
/// updates vary in magnitude between layers and the low bits of a sum are noise, so bit-exact widths per block cost
/// well under the 8 bytes of a plain int64 (docs/aggregation.md, "The exact fold"). Lossless: the decoder
/// sign-extends and returns exactly the sums that were encoded.
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
            length += 1 + ((((long)BitsFor(FixedPointKernels.MaxAbs(slice)) * slice.Length) + 7) / 8);
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
            int bits = BitsFor(FixedPointKernels.MaxAbs(slice));
            bytes[at++] = (byte)bits;
            UInt128 pending = 0;
            int pendingBits = 0;
            ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
            foreach (long value in slice)
            {
                pending |= (UInt128)((ulong)value & mask) << pendingBits;
                pendingBits += bits;
                while (pendingBits >= 8)
                {
                    bytes[at++] = (byte)pending;
                    pending >>= 8;
                    pendingBits -= 8;
                }
            }

            if (pendingBits > 0)
            {
                bytes[at++] = (byte)pending;
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
            int bits = at < bytes.Length ? bytes[at++] : 0;
            if (bits is < 1 or > 64 || bytes.Length - at < (((long)bits * count) + 7) / 8)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"block at coordinate {start}: width {bits} bits outside [1, 64] or fewer bytes than it needs");
                return false;
            }

            UInt128 pending = 0;
            int pendingBits = 0;
            int shift = 64 - bits;
            for (int i = 0; i < count; i++)
            {
                while (pendingBits < bits)
                {
                    pending |= (UInt128)bytes[at++] << pendingBits;
                    pendingBits += 8;
                }

                decoded[start + i] = (long)((ulong)pending << shift) >> shift;
                pending >>= bits;
                pendingBits -= bits;
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

    /// <summary>The fewest bits (1..64) of two's complement that hold every value of magnitude ≤ <paramref name="maxAbs"/>.</summary>
    internal static int BitsFor(ulong maxAbs) => maxAbs == 0 ? 1 : Math.Min(64, 65 - System.Numerics.BitOperations.LeadingZeroCount(maxAbs));
}
