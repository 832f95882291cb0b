namespace Totoro.Ml.Serialization;

/// <summary>How the payload stores each float.</summary>
public enum PayloadEncoding : byte
{
    /// <summary>IEEE float32, little-endian: exact.</summary>
    Float32 = 1,

    /// <summary>IEEE binary16, little-endian: half the bytes, relative error ≤ 2⁻¹¹ for |x| ≥ 2⁻¹⁴; |x| ≤ 65504.</summary>
    Float16 = 2,

    /// <summary>Symmetric int8 per chunk: a float32 scale s = max|x|/127 then one signed byte per element; error ≤ s/2.</summary>
    Int8 = 3,
}

/// <summary>
/// The header fields of an encoded update. <see cref="ChunkSize"/> is the number of elements sharing one
/// scale in <see cref="PayloadEncoding.Int8"/> and 0 for the other encodings.
/// </summary>
public readonly record struct UpdateHeader(
    ulong ArchitectureId,
    ulong ModelVersion,
    int ElementCount,
    PayloadEncoding Encoding,
    int ChunkSize);

/// <summary>Why an encoded update was refused.</summary>
public enum CodecErrorKind
{
    Truncated,
    BadMagic,
    UnsupportedVersion,
    UnknownEncoding,
    ReservedFieldSet,
    HeaderChecksumMismatch,
    ElementCountTooLarge,
    ElementCountMismatch,
    BadChunkSize,
    PayloadChecksumMismatch,
    NonFiniteValue,
    ValueOutOfRange,
    TrailingBytes,
}

/// <summary>A typed decode or encode failure; nothing a peer sends produces anything else.</summary>
public sealed record CodecError(CodecErrorKind Kind, string Detail);

/// <summary>
/// Limits enforced on read before any allocation sized by the input. <see cref="MaxElementCount"/> is the
/// largest model a node accepts; <see cref="ExpectedElementCount"/> (when known, e.g. the round's model)
/// makes any other length an error before the payload is touched.
/// </summary>
public sealed record CodecLimits
{
    public const int MaxChunkSize = 65536;

    public CodecLimits(int maxElementCount = 64 * 1024 * 1024, int? expectedElementCount = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxElementCount);
        if (expectedElementCount is { } expected)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(expected);
        }

        MaxElementCount = maxElementCount;
        ExpectedElementCount = expectedElementCount;
    }

    public int MaxElementCount { get; }

    public int? ExpectedElementCount { get; }

    public static CodecLimits Default { get; } = new();
}

/// <summary>A decoded update: header fields and the values (owned by the caller).</summary>
public sealed record DecodedUpdate(UpdateHeader Header, float[] Values);
