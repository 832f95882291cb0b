using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;

namespace Totoro.Transport.Tcp.Framing;

/// <summary>
/// Frame = 4-byte big-endian payload length, 1 byte frame type, 1 byte lane, then the payload (one protobuf
/// message). Small envelopes are written by hand in the exact wire form of <c>EnvelopeBatch</c>, so the hot path
/// allocates nothing per message while the receiver still parses with the generated code.
/// </summary>
internal static class FrameCodec
{
    public const int HeaderBytes = 6;

    private const byte EnvelopesTag = (1 << 3) | 2;
    private const byte RecipientTag = (1 << 3) | 2;
    private const byte SenderTag = (2 << 3) | 2;
    private const byte ManifestTag = (3 << 3) | 2;
    private const byte PayloadTag = (4 << 3) | 2;
    private const byte BlobIdTag = 1 << 3;
    private const byte OffsetTag = 2 << 3;
    private const byte DataTag = (3 << 3) | 2;

    /// <summary>
    /// Takes one whole frame off the front of <paramref name="buffer"/>. Returns false when more bytes are needed;
    /// throws as soon as the header shows a frame this node will never accept, before its payload is buffered.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out FrameType type, out Lane lane,
        out ReadOnlySequence<byte> payload)
    {
        type = default;
        lane = default;
        payload = default;
        if (buffer.Length < HeaderBytes)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[HeaderBytes];
        buffer.Slice(0, HeaderBytes).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > (uint)maxFrameBytes)
        {
            throw new ProtocolViolationException(CloseReason.FrameTooLarge, $"frame of {length} bytes exceeds max-frame-bytes {maxFrameBytes}");
        }
        if (header[4] is < (byte)FrameType.Handshake or > (byte)FrameType.Credit)
        {
            throw new ProtocolViolationException(CloseReason.UnknownFrameType, $"unknown frame type {header[4]}");
        }
        if (header[5] > (byte)Lane.Bulk)
        {
            throw new ProtocolViolationException(CloseReason.BadLane, $"unknown lane {header[5]}");
        }
        if (buffer.Length < HeaderBytes + length)
        {
            return false;
        }
        type = (FrameType)header[4];
        lane = (Lane)header[5];
        payload = buffer.Slice(HeaderBytes, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    public static void WriteHeader(Span<byte> destination, int payloadLength, FrameType type, Lane lane)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)payloadLength);
        destination[4] = (byte)type;
        destination[5] = (byte)lane;
    }

    /// <summary>Writes a frame whose payload is a generated protobuf message (control and handshake frames).</summary>
    public static int WriteMessage(PipeWriter writer, FrameType type, Lane lane, IMessage message)
    {
        var size = message.CalculateSize();
        var span = writer.GetSpan(HeaderBytes + size);
        WriteHeader(span, size, type, lane);
        message.WriteTo(span.Slice(HeaderBytes, size));
        writer.Advance(HeaderBytes + size);
        return HeaderBytes + size;
    }

    /// <summary>Size of a length-delimited field (tag + length + bytes); proto3 omits empty ones.</summary>
    public static int FieldSize(int length) => length == 0 ? 0 : 1 + VarintSize((ulong)length) + length;

    public static int EnvelopeSize(in OutboundItem item) =>
        FieldSize(item.RecipientBytes) + FieldSize(item.SenderBytes) + FieldSize(item.ManifestBytes) + FieldSize(item.Envelope.Payload.Length);

    /// <summary>Bytes one envelope adds to a batch frame's payload.</summary>
    public static int BatchEntrySize(int envelopeSize) => 1 + VarintSize((ulong)envelopeSize) + envelopeSize;

    /// <summary>Writes one <c>EnvelopeBatch.envelopes</c> entry; <paramref name="envelopeSize"/> from <see cref="EnvelopeSize"/>.</summary>
    public static void WriteBatchEntry(PipeWriter writer, in OutboundItem item, int envelopeSize)
    {
        var headerSize = BatchEntrySize(envelopeSize) - item.Envelope.Payload.Length;
        var span = writer.GetSpan(headerSize);
        var at = 0;
        span[at++] = EnvelopesTag;
        at += WriteVarint(span[at..], (ulong)envelopeSize);
        at += WriteString(span[at..], RecipientTag, item.Envelope.Recipient, item.RecipientBytes);
        at += WriteString(span[at..], SenderTag, item.Envelope.Sender, item.SenderBytes);
        at += WriteString(span[at..], ManifestTag, item.Envelope.Manifest, item.ManifestBytes);
        var payload = item.Envelope.Payload.Span;
        if (payload.Length > 0)
        {
            span[at++] = PayloadTag;
            at += WriteVarint(span[at..], (ulong)payload.Length);
        }
        writer.Advance(at);
        if (payload.Length > 0)
        {
            writer.Write(payload);
        }
    }

    /// <summary>Writes a whole BLOB_CHUNK frame (header + <c>BlobChunk</c> message) and returns its size on the wire.</summary>
    public static int WriteBlobChunk(PipeWriter writer, ulong blobId, ulong offset, ReadOnlySpan<byte> data)
    {
        var messageHeader = 1 + VarintSize(blobId) + 1 + VarintSize(offset) + 1 + VarintSize((ulong)data.Length);
        var size = messageHeader + data.Length;
        var span = writer.GetSpan(HeaderBytes + messageHeader);
        WriteHeader(span, size, FrameType.BlobChunk, Lane.Bulk);
        var at = HeaderBytes;
        span[at++] = BlobIdTag;
        at += WriteVarint(span[at..], blobId);
        span[at++] = OffsetTag;
        at += WriteVarint(span[at..], offset);
        span[at++] = DataTag;
        at += WriteVarint(span[at..], (ulong)data.Length);
        writer.Advance(at);
        writer.Write(data);
        return HeaderBytes + size;
    }

    /// <summary>
    /// Reads a <c>BlobChunk</c> without copying its data: the generated parser would copy every chunk into a fresh
    /// array (a large-object-heap allocation at the default chunk size). Strict: fields 1-3 only, each at most once.
    /// </summary>
    public static void ReadBlobChunk(ReadOnlySequence<byte> payload, out ulong blobId, out ulong offset, out ReadOnlySequence<byte> data)
    {
        blobId = 0;
        offset = 0;
        data = ReadOnlySequence<byte>.Empty;
        var seen = 0;
        var reader = new SequenceReader<byte>(payload);
        while (!reader.End)
        {
            var tag = ReadVarint(ref reader);
            var field = tag switch { BlobIdTag => 1, OffsetTag => 2, DataTag => 4, _ => 0 };
            if (field == 0 || (seen & field) != 0)
            {
                throw new ProtocolViolationException(CloseReason.MalformedFrame, $"unexpected tag {tag} in a blob chunk");
            }
            seen |= field;
            switch (tag)
            {
                case BlobIdTag:
                    blobId = ReadVarint(ref reader);
                    break;
                case OffsetTag:
                    offset = ReadVarint(ref reader);
                    break;
                default:
                    var length = ReadVarint(ref reader);
                    if (length > (ulong)reader.Remaining)
                    {
                        throw new ProtocolViolationException(CloseReason.MalformedFrame, "blob chunk data runs past the frame");
                    }
                    data = payload.Slice(reader.Position, (long)length);
                    reader.Advance((long)length);
                    break;
            }
        }
    }

    private static ulong ReadVarint(ref SequenceReader<byte> reader)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                throw new ProtocolViolationException(CloseReason.MalformedFrame, "varint runs past the frame");
            }
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new ProtocolViolationException(CloseReason.MalformedFrame, "varint longer than 10 bytes");
    }

    public static int VarintSize(ulong value) => value < 128 ? 1 : (64 - System.Numerics.BitOperations.LeadingZeroCount(value) + 6) / 7;

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            destination[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[at++] = (byte)value;
        return at;
    }

    private static int WriteString(Span<byte> destination, byte tag, string value, int utf8Bytes)
    {
        if (utf8Bytes == 0)
        {
            return 0;
        }
        destination[0] = tag;
        var at = 1 + WriteVarint(destination[1..], (ulong)utf8Bytes);
        return at + Encoding.UTF8.GetBytes(value, destination[at..]);
    }
}
