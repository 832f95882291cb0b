using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Totoro.Ml.Serialization;

/// <summary>
/// The binary form of a model or update (layout in docs/aggregation.md): a 36-byte header with its own
/// CRC-32C — so a length is trusted only after its checksum matched — the payload, and a 4-byte CRC-32C
/// of the payload as a trailer, so an encoder can stream without knowing the checksum up front.
/// All integers and floats are little-endian.
/// </summary>
public static class UpdateCodec
{
    public const int HeaderSize = 36;
    public const int TrailerSize = 4;
    public const ushort FormatVersion = 1;

    /// <summary>"TTUP" read as a little-endian uint32.</summary>
    internal const uint Magic = 0x5055_5454;

    /// <summary>
    /// Payload bytes handed to the writer (and checked by the decoder) at a time: large enough to amortize
    /// calls, small enough to stay in L2, a multiple of the CRC's 3-lane block.
    /// </summary>
    internal const int PieceBytes = 5 * Crc32C.BlockBytes;

    private const float Float16Max = 65504f;

    /// <summary>Header + payload + trailer bytes of an update with this header.</summary>
    public static long EncodedLength(UpdateHeader header) => HeaderSize + PayloadLength(header) + TrailerSize;

    /// <summary>
    /// Writes <paramref name="values"/> to <paramref name="writer"/> in pieces (no whole-payload buffer).
    /// Values are checked first (finite; within ±65504 for float16), so a refusal writes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static CodecError? Encode(IBufferWriter<byte> writer, UpdateHeader header, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(writer);
        // Read limits protect a receiver; a sender may encode any length its peer agreed to accept.
        var error = CheckHeaderFields(header, int.MaxValue, null, CodecLimits.MaxChunkSize)
            ?? CheckValues(header, values);
        if (error is not null)
        {
            return error;
        }

        var head = writer.GetSpan(HeaderSize)[..HeaderSize];
        WriteHeader(head, header);
        writer.Advance(HeaderSize);

        uint crc = ~0u;
        switch (header.Encoding)
        {
            case PayloadEncoding.Float32:
                for (int start = 0; start < values.Length; start += PieceBytes / 4)
                {
                    var piece = values.Slice(start, Math.Min(PieceBytes / 4, values.Length - start));
                    var bytes = writer.GetSpan(piece.Length * 4)[..(piece.Length * 4)];
                    MemoryMarshal.AsBytes(piece).CopyTo(bytes);
                    ToLittleEndian(MemoryMarshal.Cast<byte, uint>(bytes));
                    crc = Crc32C.Append(crc, bytes);
                    writer.Advance(bytes.Length);
                }

                break;
            case PayloadEncoding.Float16:
                for (int start = 0; start < values.Length; start += PieceBytes / 2)
                {
                    var piece = values.Slice(start, Math.Min(PieceBytes / 2, values.Length - start));
                    var bytes = writer.GetSpan(piece.Length * 2)[..(piece.Length * 2)];
                    TensorPrimitives.ConvertToHalf(piece, MemoryMarshal.Cast<byte, Half>(bytes));
                    ToLittleEndian(MemoryMarshal.Cast<byte, ushort>(bytes));
                    crc = Crc32C.Append(crc, bytes);
                    writer.Advance(bytes.Length);
                }

                break;
            default:
                for (int start = 0; start < values.Length; start += header.ChunkSize)
                {
                    var chunk = values.Slice(start, Math.Min(header.ChunkSize, values.Length - start));
                    var bytes = writer.GetSpan(4 + chunk.Length)[..(4 + chunk.Length)];
                    EncodeInt8Chunk(chunk, bytes);
                    crc = Crc32C.Append(crc, bytes);
                    writer.Advance(bytes.Length);
                }

                break;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(writer.GetSpan(TrailerSize), ~crc);
        writer.Advance(TrailerSize);
        return null;
    }

    /// <summary>
    /// Decodes a complete encoded update held in one span, into <paramref name="destination"/> when given
    /// (its length must match the header's element count) or into a new array.
    /// </summary>
    public static bool TryDecode(
        ReadOnlySpan<byte> encoded,
        CodecLimits limits,
        [NotNullWhen(true)] out DecodedUpdate? update,
        [NotNullWhen(false)] out CodecError? error,
        float[]? destination = null)
    {
        var decoder = new UpdateDecoder(limits, encoded.Length, destination);
        error = decoder.Feed(encoded);
        if (error is not null)
        {
            update = null;
            return false;
        }

        return decoder.TryComplete(out update, out error);
    }

    /// <summary>Decodes an update spread over buffers (e.g. a pipe's segments) without joining them.</summary>
    public static bool TryDecode(
        ReadOnlySequence<byte> encoded,
        CodecLimits limits,
        [NotNullWhen(true)] out DecodedUpdate? update,
        [NotNullWhen(false)] out CodecError? error)
    {
        var decoder = new UpdateDecoder(limits, encoded.Length);
        foreach (var segment in encoded)
        {
            error = decoder.Feed(segment.Span);
            if (error is not null)
            {
                update = null;
                return false;
            }
        }

        return decoder.TryComplete(out update, out error);
    }

    internal static long PayloadLength(UpdateHeader header) => header.Encoding switch
    {
        PayloadEncoding.Float32 => 4L * header.ElementCount,
        PayloadEncoding.Float16 => 2L * header.ElementCount,
        _ => header.ElementCount + (4L * ChunkCount(header)),
    };

    internal static long ChunkCount(UpdateHeader header) =>
        header.ChunkSize == 0 ? 0 : ((long)header.ElementCount + header.ChunkSize - 1) / header.ChunkSize;

    internal static CodecError? CheckHeaderFields(UpdateHeader header, int maxElementCount, int? expectedElementCount, int maxChunk)
    {
        if (header.ElementCount < 0 || header.ElementCount > maxElementCount)
        {
            return new(CodecErrorKind.ElementCountTooLarge, string.Create(CultureInfo.InvariantCulture,
                $"element count {(uint)header.ElementCount} exceeds the limit {maxElementCount}"));
        }

        if (expectedElementCount is { } expected && header.ElementCount != expected)
        {
            return new(CodecErrorKind.ElementCountMismatch, string.Create(CultureInfo.InvariantCulture,
                $"element count {header.ElementCount}, expected {expected}"));
        }

        if (!Enum.IsDefined(header.Encoding))
        {
            return new(CodecErrorKind.UnknownEncoding, string.Create(CultureInfo.InvariantCulture, $"encoding {(byte)header.Encoding}"));
        }

        bool chunkOk = header.Encoding == PayloadEncoding.Int8
            ? header.ChunkSize >= 1 && header.ChunkSize <= maxChunk
            : header.ChunkSize == 0;
        return chunkOk ? null : new(CodecErrorKind.BadChunkSize, string.Create(CultureInfo.InvariantCulture,
            $"chunk size {header.ChunkSize} is invalid for {header.Encoding} (int8 needs 1..{maxChunk}, others 0)"));
    }

    internal static void WriteHeader(Span<byte> destination, UpdateHeader header)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], FormatVersion);
        destination[6] = (byte)header.Encoding;
        destination[7] = 0;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], header.ArchitectureId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], header.ModelVersion);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], header.ElementCount);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], header.ChunkSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[32..], Crc32C.Compute(destination[..32]));
    }

    /// <summary>The payload is little-endian; on a big-endian host swap in place (a no-op branch on x64/arm64).</summary>
    internal static void ToLittleEndian(Span<uint> words)
    {
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    internal static void ToLittleEndian(Span<ushort> halves)
    {
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(halves, halves);
        }
    }

    private static CodecError? CheckValues(UpdateHeader header, ReadOnlySpan<float> values)
    {
        if (values.Length != header.ElementCount)
        {
            return new(CodecErrorKind.ElementCountMismatch, string.Create(CultureInfo.InvariantCulture,
                $"{values.Length} values for a header of {header.ElementCount}"));
        }

        if (header.Encoding == PayloadEncoding.Float16 && values.Length > 0)
        {
            // One pass answers both questions: MaxMagnitude propagates NaN and ∞.
            float largest = Math.Abs(TensorPrimitives.MaxMagnitude(values));
            return !float.IsFinite(largest) ? NonFinite()
                : largest > Float16Max ? new(CodecErrorKind.ValueOutOfRange, "a value exceeds float16's range ±65504; use Float32 or Int8")
                : null;
        }

        return Aggregation.AggregationKernels.AllFinite(values) ? null : NonFinite();

        static CodecError NonFinite() => new(CodecErrorKind.NonFiniteValue, "NaN or infinity cannot be encoded");
    }

    /// <summary>Writes [scale: float32][q: sbyte × n] with q = round(x / scale), scale = max|x| / 127.</summary>
    private static void EncodeInt8Chunk(ReadOnlySpan<float> chunk, Span<byte> destination)
    {
        float maxMagnitude = Math.Abs(TensorPrimitives.MaxMagnitude(chunk));
        float scale = maxMagnitude / 127f;
        BinaryPrimitives.WriteSingleLittleEndian(destination, scale);
        var quantized = MemoryMarshal.Cast<byte, sbyte>(destination[4..]);
        if (scale == 0f)
        {
            quantized.Clear();
            return;
        }

        Int8Kernels.Quantize(chunk, 127f / maxMagnitude, quantized);
    }
}
