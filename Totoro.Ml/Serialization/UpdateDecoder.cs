using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Totoro.Ml.Aggregation;

namespace Totoro.Ml.Serialization;

/// <summary>
/// Decodes one encoded update fed in pieces of any size (network segments), writing values straight into
/// the output array: the only buffers are the 36-byte header, a carry of at most one int8 chunk for a unit
/// split across pieces, and the output. The output is allocated only after the header's checksum and
/// limits passed and, when the total length is known, after it matched the header.
/// Every problem becomes a sticky <see cref="CodecError"/>; no input makes it throw.
/// </summary>
public sealed class UpdateDecoder
{
    private const float MaxInt8Scale = float.MaxValue / 128f;

    private readonly CodecLimits _limits;
    private readonly long? _totalLength;
    private readonly float[]? _destination;
    private readonly byte[] _header = new byte[UpdateCodec.HeaderSize];
    private readonly byte[] _trailer = new byte[UpdateCodec.TrailerSize];
    private int _headerFilled;
    private int _trailerFilled;
    private UpdateHeader _parsed;
    private float[]? _values;
    private long _payloadRemaining;
    private int _valuesWritten;
    private uint _crc = ~0u;
    private byte[]? _carry;
    private int _carryFilled;
    private CodecError? _error;
    private bool _done;

    /// <param name="limits">Bounds checked before allocating.</param>
    /// <param name="totalLength">The encoded length if the transport knows it (blob size); checked against the header.</param>
    /// <param name="destination">
    /// A caller-owned buffer to decode into instead of a new array (an aggregator reusing one buffer per
    /// round); the header's element count must equal its length.
    /// </param>
    public UpdateDecoder(CodecLimits limits, long? totalLength = null, float[]? destination = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
        _totalLength = totalLength;
        _destination = destination;
    }

    /// <summary>The parsed header once its bytes arrived and passed their checks.</summary>
    public UpdateHeader? Header => _values is null ? null : _parsed;

    /// <summary>Consumes the next piece. Returns the error that stopped decoding, now or earlier.</summary>
    public CodecError? Feed(ReadOnlySpan<byte> data)
    {
        while (_error is null && !data.IsEmpty)
        {
            if (_done)
            {
                _error = new(CodecErrorKind.TrailingBytes, "bytes after the trailer");
            }
            else if (_values is null)
            {
                int take = Math.Min(UpdateCodec.HeaderSize - _headerFilled, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerFilled));
                _headerFilled += take;
                data = data[take..];
                if (_headerFilled == UpdateCodec.HeaderSize)
                {
                    _error = ParseHeader();
                }
            }
            else if (_payloadRemaining > 0)
            {
                data = FeedPayload(data);
            }
            else
            {
                int take = Math.Min(UpdateCodec.TrailerSize - _trailerFilled, data.Length);
                data[..take].CopyTo(_trailer.AsSpan(_trailerFilled));
                _trailerFilled += take;
                data = data[take..];
                if (_trailerFilled == UpdateCodec.TrailerSize)
                {
                    _done = true;
                    uint expected = BinaryPrimitives.ReadUInt32LittleEndian(_trailer);
                    if (expected != ~_crc)
                    {
                        _error = new(CodecErrorKind.PayloadChecksumMismatch, string.Create(CultureInfo.InvariantCulture,
                            $"payload CRC-32C {~_crc:x8}, trailer says {expected:x8}"));
                    }
                }
            }
        }

        return _error;
    }

    /// <summary>Ends the input: succeeds only if a whole, verified update arrived.</summary>
    public bool TryComplete([NotNullWhen(true)] out DecodedUpdate? update, [NotNullWhen(false)] out CodecError? error)
    {
        error = _error ?? (_done ? null : new CodecError(CodecErrorKind.Truncated, Progress()));
        update = error is null ? new DecodedUpdate(_parsed, _values!) : null;
        return error is null;
    }

    private string Progress() => _values is null
        ? string.Create(CultureInfo.InvariantCulture, $"input ended inside the header ({_headerFilled} of {UpdateCodec.HeaderSize} bytes)")
        : string.Create(CultureInfo.InvariantCulture, $"input ended with {_payloadRemaining} payload bytes and {UpdateCodec.TrailerSize - _trailerFilled} trailer bytes missing");

    private CodecError? ParseHeader()
    {
        ReadOnlySpan<byte> h = _header;
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != UpdateCodec.Magic)
        {
            return new(CodecErrorKind.BadMagic, "not a Totoro update (magic is not \"TTUP\")");
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(h[32..]);
        uint actual = Crc32C.Compute(h[..32]);
        if (stored != actual)
        {
            return new(CodecErrorKind.HeaderChecksumMismatch, string.Create(CultureInfo.InvariantCulture,
                $"header CRC-32C {actual:x8}, stored {stored:x8}"));
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(h[4..]);
        if (version != UpdateCodec.FormatVersion)
        {
            return new(CodecErrorKind.UnsupportedVersion, string.Create(CultureInfo.InvariantCulture,
                $"format version {version}; this build reads {UpdateCodec.FormatVersion}"));
        }

        if (h[7] != 0)
        {
            return new(CodecErrorKind.ReservedFieldSet, "reserved byte 7 is not zero");
        }

        _parsed = new UpdateHeader(
            BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(h[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(h[24..]),
            (PayloadEncoding)h[6],
            BinaryPrimitives.ReadInt32LittleEndian(h[28..]));
        var error = UpdateCodec.CheckHeaderFields(
            _parsed, _limits.MaxElementCount, _destination?.Length ?? _limits.ExpectedElementCount, CodecLimits.MaxChunkSize);
        if (error is not null)
        {
            return error;
        }

        long encodedLength = UpdateCodec.EncodedLength(_parsed);
        if (_totalLength is { } total && total != encodedLength)
        {
            return total < encodedLength
                ? new(CodecErrorKind.Truncated, string.Create(CultureInfo.InvariantCulture, $"{total} bytes, the header announces {encodedLength}"))
                : new(CodecErrorKind.TrailingBytes, string.Create(CultureInfo.InvariantCulture, $"{total} bytes, the header announces {encodedLength}"));
        }

        _payloadRemaining = UpdateCodec.PayloadLength(_parsed);
        _values = _destination ?? new float[_parsed.ElementCount];
        return null;
    }

    /// <summary>Bytes of the next decodable unit: one float, one half, or one whole int8 chunk with its scale.</summary>
    private int NextUnitSize() => _parsed.Encoding switch
    {
        PayloadEncoding.Float32 => 4,
        PayloadEncoding.Float16 => 2,
        _ => 4 + Math.Min(_parsed.ChunkSize, _parsed.ElementCount - _valuesWritten),
    };

    private ReadOnlySpan<byte> FeedPayload(ReadOnlySpan<byte> data)
    {
        int unit = NextUnitSize();
        if (_carryFilled > 0)
        {
            int take = Math.Min(unit - _carryFilled, data.Length);
            data[..take].CopyTo(_carry.AsSpan(_carryFilled));
            _carryFilled += take;
            if (_carryFilled == unit)
            {
                _carryFilled = 0;
                DecodeUnits(_carry.AsSpan(0, unit));
            }

            return data[take..];
        }

        // Pieces of 60 KiB keep the checksum, the copy and the finiteness check of one piece in L2.
        int available = (int)Math.Min(Math.Min(data.Length, _payloadRemaining), UpdateCodec.PieceBytes);
        int whole = _parsed.Encoding == PayloadEncoding.Int8
            ? (available >= unit ? unit : 0)
            : available - (available % unit);
        if (whole > 0)
        {
            DecodeUnits(data[..whole]);
            return data[whole..];
        }

        _carry ??= new byte[4 + Math.Min(_parsed.ChunkSize, _parsed.ElementCount) + 4];
        data[..available].CopyTo(_carry);
        _carryFilled = available;
        return data[available..];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeUnits(ReadOnlySpan<byte> bytes)
    {
        _crc = Crc32C.Append(_crc, bytes);
        _payloadRemaining -= bytes.Length;
        Span<float> output;
        switch (_parsed.Encoding)
        {
            case PayloadEncoding.Float32:
                output = _values.AsSpan(_valuesWritten, bytes.Length / 4);
                bytes.CopyTo(MemoryMarshal.AsBytes(output));
                UpdateCodec.ToLittleEndian(MemoryMarshal.Cast<float, uint>(output));
                break;
            case PayloadEncoding.Float16:
                output = _values.AsSpan(_valuesWritten, bytes.Length / 2);
                if (BitConverter.IsLittleEndian)
                {
                    TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), output);
                }
                else
                {
                    for (int i = 0; i < output.Length; i++)
                    {
                        output[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                    }
                }

                break;
            default:
                output = _values.AsSpan(_valuesWritten, bytes.Length - 4);
                float scale = BinaryPrimitives.ReadSingleLittleEndian(bytes);
                // An encoder never writes a scale above float.MaxValue/127; bounding it here means q·scale
                // (|q| ≤ 128) is finite, so int8 chunks need no finiteness pass.
                if (!(scale >= 0 && scale <= MaxInt8Scale))
                {
                    _error = new(CodecErrorKind.ValueOutOfRange, "an int8 chunk's scale is negative, too large or not a number");
                    return;
                }

                Int8Kernels.Dequantize(MemoryMarshal.Cast<byte, sbyte>(bytes[4..]), scale, output);
                _valuesWritten += output.Length;
                return;
        }

        _valuesWritten += output.Length;
        if (!AggregationKernels.AllFinite(output))
        {
            _error = new(CodecErrorKind.NonFiniteValue, "the payload contains NaN or infinity");
        }
    }
}
