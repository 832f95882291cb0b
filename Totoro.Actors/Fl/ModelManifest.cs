using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Totoro.Actors.Fl;

/// <summary>
/// What a round's model is, sent in the RoundStart ahead of its chunks: architecture, version, length in floats,
/// the chunk length the root cut it into, and a checksum of the whole model. A node assembles a model only from
/// chunks that carry this checksum and checks the assembled model against it.
/// </summary>
internal sealed record ModelManifest(ulong ArchitectureId, long Version, int Length, int ChunkLength, ulong Checksum)
{
    /// <summary>Bytes of a manifest on the wire (five fixed-width fields).</summary>
    public const int WireSize = 40;

    /// <summary>Chunks the model travels in; an empty model still sends one (empty) chunk, so every round has one.</summary>
    public int ChunkCount => Length == 0 ? 1 : (int)(((long)Length + ChunkLength - 1) / ChunkLength);

    public static ModelManifest Of(GlobalModel model, int chunkLength)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkLength, 1);
        return new(model.ArchitectureId, model.Version, model.Parameters.Length, chunkLength, ChecksumOf(model.Parameters.Span));
    }

    /// <summary>Floats in chunk <paramref name="index"/> (the last one may be short).</summary>
    public int LengthOf(int index) => index < ChunkCount - 1 ? ChunkLength : Length - ((ChunkCount - 1) * ChunkLength);

    /// <summary>Null when the manifest is self-consistent, else what is wrong (for manifests read from the wire).</summary>
    public string? Problem() =>
        Length < 0 ? $"negative model length {Length}"
        : ChunkLength < 1 ? $"chunk length {ChunkLength} < 1"
        : Version < 0 ? $"negative model version {Version}"
        : null;

    /// <summary>The model cut into its chunks; each is a slice of <paramref name="model"/>'s parameters, not a copy.</summary>
    public ImmutableArray<ModelChunk> Split(string app, long run, long round, GlobalModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Parameters.Length != Length)
        {
            throw new ArgumentException($"model has {model.Parameters.Length} parameters, the manifest {Length}", nameof(model));
        }

        return [.. Enumerable.Range(0, ChunkCount).Select(i => new ModelChunk(app, run, round, i, Checksum, model.Parameters.Slice(i * ChunkLength, LengthOf(i))))];
    }

    /// <summary>
    /// A 64-bit checksum of the parameters' exact bits (a multiply–rotate mix over 8-byte words, length included):
    /// not cryptographic, it guards against chunks of different models or versions being put together.
    /// </summary>
    public static ulong ChecksumOf(ReadOnlySpan<float> values)
    {
        const ulong prime1 = 0x9E3779B185EBCA87UL;
        const ulong prime2 = 0xC2B2AE3D27D4EB4FUL;
        var hash = prime2 ^ (ulong)values.Length;
        var bytes = MemoryMarshal.AsBytes(values);
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var word in words)
        {
            hash = ulong.RotateLeft(hash ^ (word * prime1), 31) * prime2;
        }

        for (int i = words.Length * 8; i < bytes.Length; i++)
        {
            hash = ulong.RotateLeft(hash ^ (bytes[i] * prime1), 23) * prime2;
        }

        return hash ^ (hash >> 29);
    }
}
