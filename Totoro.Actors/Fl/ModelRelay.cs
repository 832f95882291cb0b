using System.Collections.Immutable;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>One chunk to pass on to one child.</summary>
internal readonly record struct ChunkSend(Address To, ModelChunk Chunk);

/// <summary>
/// What taking chunks did: the relay's new state, the sends to perform in order, the assembled model when this
/// step completed it (only for a node whose own worker trains), and why an assembly was refused, if it was.
/// </summary>
internal sealed record RelayStep(ModelRelay State, ImmutableArray<ChunkSend> Sends, GlobalModel? Assembled, string? Refused);

/// <summary>
/// One tree node's cut-through relay of a round's model: passes each chunk on to the children that lead to invited
/// workers the moment it arrives, and, when its own worker is invited, assembles the model once every chunk is in
/// and its checksum matches the manifest. Chunks of another run, round or model, malformed chunks and chunks it
/// already has are dropped and counted. Immutable.
/// </summary>
/// <remarks>
/// Send order: relay children (whose subtree holds more than their own worker) get each new chunk first, chunk by
/// chunk, so their subtrees start streaming early; leaf children (the child's own worker only) then get the new
/// chunks child by child. A forwarder receives one chunk at a time, so every child gets it at once; the root holds
/// the whole model at once, so its leaves receive whole models one after another, as a star's server sends them.
/// </remarks>
internal sealed record ModelRelay(
    string App,
    long Run,
    long Round,
    ModelManifest Manifest,
    ImmutableArray<Address> Relays,
    ImmutableArray<Address> Leaves,
    bool Assemble,
    ImmutableArray<ReadOnlyMemory<float>?> Chunks,
    int Received,
    int Duplicates,
    int Stale)
{
    public static ModelRelay Open(string app, long run, long round, ModelManifest manifest, IEnumerable<Address> relays, IEnumerable<Address> leaves, bool assemble) =>
        new(app, run, round, manifest, [.. relays], [.. leaves], assemble, [.. new ReadOnlyMemory<float>?[manifest.ChunkCount]], 0, 0, 0);

    public bool IsComplete => Received == Manifest.ChunkCount;

    /// <summary>Takes <paramref name="chunks"/> (one from a parent, or the whole model at the root), in the order given.</summary>
    public RelayStep Take(IReadOnlyList<ModelChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var state = this;
        var fresh = new List<ModelChunk>(chunks.Count);
        foreach (var chunk in chunks)
        {
            var verdict = state.Judge(chunk);
            if (verdict == Arrival.Accepted)
            {
                // A node that only forwards keeps no reference to the values: it needs to know only which chunks it passed on.
                var kept = Assemble ? chunk.Values : ReadOnlyMemory<float>.Empty;
                state = state with { Chunks = state.Chunks.SetItem(chunk.Index, kept), Received = state.Received + 1 };
                fresh.Add(chunk);
            }
            else
            {
                state = verdict == Arrival.Stale ? state with { Stale = state.Stale + 1 } : state with { Duplicates = state.Duplicates + 1 };
            }
        }

        var sends = ImmutableArray.CreateBuilder<ChunkSend>((Relays.Length + Leaves.Length) * fresh.Count);
        foreach (var chunk in fresh)
        {
            foreach (var relay in Relays)
            {
                sends.Add(new ChunkSend(relay, chunk));
            }
        }

        foreach (var leaf in Leaves)
        {
            foreach (var chunk in fresh)
            {
                sends.Add(new ChunkSend(leaf, chunk));
            }
        }

        if (fresh.Count == 0 || !state.IsComplete || !Assemble)
        {
            return new RelayStep(state, sends.MoveToImmutable(), null, null);
        }

        var (model, refused) = state.Assembled();
        return new RelayStep(state, sends.MoveToImmutable(), model, refused);
    }

    /// <summary>Counts a chunk that reached no relay (another round's, or one that came when none was open) as stale.</summary>
    public ModelRelay DropStale() => this with { Stale = Stale + 1 };

    private Arrival Judge(ModelChunk chunk)
    {
        if (chunk.App != App || chunk.Run != Run || chunk.Round != Round || chunk.Checksum != Manifest.Checksum)
        {
            return Arrival.Stale;
        }

        if (chunk.Index < 0 || chunk.Index >= Manifest.ChunkCount || chunk.Values.Length != Manifest.LengthOf(chunk.Index))
        {
            return Arrival.Stale;
        }

        return Chunks[chunk.Index] is null ? Arrival.Accepted : Arrival.Duplicate;
    }

    private (GlobalModel? Model, string? Refused) Assembled()
    {
        var parameters = new float[Manifest.Length];
        for (int i = 0; i < Chunks.Length; i++)
        {
            Chunks[i]!.Value.Span.CopyTo(parameters.AsSpan(i * Manifest.ChunkLength));
        }

        var checksum = ModelManifest.ChecksumOf(parameters);
        return checksum == Manifest.Checksum
            ? (new GlobalModel(Manifest.ArchitectureId, Manifest.Version, parameters), null)
            : (null, $"assembled model's checksum {checksum:x16} is not the manifest's {Manifest.Checksum:x16}");
    }
}
