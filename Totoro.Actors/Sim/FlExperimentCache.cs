using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Totoro.Actors.Fl;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Data;

namespace Totoro.Actors.Sim;

/// <summary>
/// Where a node's trainer may look up a result it already computed once, instead of computing it again. Only used
/// by experiments that run the same apps on several systems (<c>totoro sim fl</c>); production nodes have none.
/// </summary>
internal interface ITrainingResultCache
{
    /// <summary>A worker's local round: the cached result for exactly these inputs, or <paramref name="train"/>'s.</summary>
    (ClientUpdate? Update, double Flops) Train(AppSpec spec, long round, int worker, GlobalModel global, Dataset data, Func<(ClientUpdate? Update, double Flops)> train);

    /// <summary>A root's evaluation: the cached result for exactly this model and test set, or <paramref name="evaluate"/>'s.</summary>
    (double Accuracy, double Loss, double Flops) Evaluate(AppSpec spec, GlobalModel model, Dataset test, Func<(double Accuracy, double Loss, double Flops)> evaluate);
}

/// <summary>Hits and misses of a <see cref="TrainingResultCache"/>.</summary>
internal sealed record TrainingCacheStats(long TrainHits, long TrainMisses, long EvalHits, long EvalMisses, long BytesStored)
{
    public static TrainingCacheStats Zero { get; } = new(0, 0, 0, 0, 0);

    public TrainingCacheStats Plus(TrainingCacheStats other) => new(
        TrainHits + other.TrainHits, TrainMisses + other.TrainMisses, EvalHits + other.EvalHits, EvalMisses + other.EvalMisses, BytesStored + other.BytesStored);
}

/// <summary>
/// The experiment's training cache. Synchronous FedAvg with one seed, one selection and deterministic training makes
/// round r's global model the same in every system that runs the app (star or tree, any fan-out, any number of
/// concurrent apps), so each worker's local round needs computing only once; the systems differ only in time.
/// A result is keyed by (training-relevant spec fields, round, worker, SHA-256 of the worker's data, SHA-256 of the
/// exact input model): a model that diverged by one bit has another checksum and misses, so a cached update is only
/// ever returned for the very computation that produced it. Updates (one model-sized vector each) are appended to
/// a temporary file, deleted on dispose, and read back with their own checksum verified; evaluations stay in memory.
/// Thread-safe.
/// </summary>
internal sealed class TrainingResultCache : ITrainingResultCache, IDisposable
{
    private readonly FileStream _file;
    private readonly Dictionary<TrainKey, TrainEntry> _train = [];
    private readonly Dictionary<(string Model, UInt128 Test, UInt128 Digest), (double, double, double)> _eval = [];
    private readonly Dictionary<SampleStore, UInt128> _storeDigests = new(ReferenceEqualityComparer.Instance);
    private long _trainHits, _trainMisses, _evalHits, _evalMisses;

    public TrainingResultCache(string? directory = null)
    {
        var path = Path.Combine(directory ?? Path.GetTempPath(), $"totoro-fl-cache-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.RandomAccess);
    }

    public TrainingCacheStats Stats => new(_trainHits, _trainMisses, _evalHits, _evalMisses, _file.Length);

    public (ClientUpdate? Update, double Flops) Train(AppSpec spec, long round, int worker, GlobalModel global, Dataset data, Func<(ClientUpdate? Update, double Flops)> train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var key = new TrainKey(SpecDigest(spec), round, worker, DataDigest(data), ModelDigest(global));
        if (_train.TryGetValue(key, out var entry))
        {
            _trainHits++;
            return (entry.Length < 0 ? null : Read(entry), entry.Flops);
        }

        var result = train();
        _trainMisses++;
        _train[key] = result.Update is { } update ? Write(update, result.Flops) : new TrainEntry(-1, -1, default, null, result.Flops);
        return result;
    }

    public (double Accuracy, double Loss, double Flops) Evaluate(AppSpec spec, GlobalModel model, Dataset test, Func<(double Accuracy, double Loss, double Flops)> evaluate)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        var key = (spec.Model + "/" + spec.Seed.ToString(CultureInfo.InvariantCulture), DataDigest(test), ModelDigest(model));
        if (_eval.TryGetValue(key, out var hit))
        {
            _evalHits++;
            return hit;
        }

        var result = evaluate();
        _evalMisses++;
        _eval[key] = result;
        return result;
    }

    public void Dispose() => _file.Dispose();

    /// <summary>SHA-256 (first 128 bits) of the architecture id and the exact parameter bits.</summary>
    public static UInt128 ModelDigest(GlobalModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> id = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(id, model.ArchitectureId);
        hash.AppendData(id);
        hash.AppendData(MemoryMarshal.AsBytes(model.Parameters.Span));
        return Truncate(hash.GetHashAndReset());
    }

    private static UInt128 SpecDigest(AppSpec spec) => Truncate(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(
        "|",
        spec.SeedingName, spec.Model, spec.Dataset, spec.Partitioning, spec.LocalEpochs, spec.LocalSteps, spec.BatchSize,
        spec.LearningRate.ToString("R", CultureInfo.InvariantCulture), spec.Optimizer, spec.Momentum.ToString("R", CultureInfo.InvariantCulture),
        spec.ProximalMu.ToString("R", CultureInfo.InvariantCulture), spec.Seed))));

    private UInt128 DataDigest(Dataset data)
    {
        if (!_storeDigests.TryGetValue(data.Store, out var store))
        {
            _storeDigests[data.Store] = store = StoreDigest(data.Store);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> head = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(head, store);
        hash.AppendData(head);
        hash.AppendData(MemoryMarshal.AsBytes(data.Indices));
        return Truncate(hash.GetHashAndReset());
    }

    private static UInt128 StoreDigest(SampleStore store)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var i = 0; i < store.Count; i++)
        {
            hash.AppendData(MemoryMarshal.AsBytes(store.Features(i)));
        }

        hash.AppendData(MemoryMarshal.AsBytes(store.Labels));
        return Truncate(hash.GetHashAndReset());
    }

    private static UInt128 Truncate(ReadOnlySpan<byte> digest) => BinaryPrimitives.ReadUInt128LittleEndian(digest[..16]);

    private TrainEntry Write(ClientUpdate update, double flops)
    {
        var bytes = MemoryMarshal.AsBytes(update.Delta.Span);
        var offset = _file.Length;
        RandomAccess.Write(_file.SafeFileHandle, bytes, offset);
        return new TrainEntry(offset, bytes.Length, Truncate(SHA256.HashData(bytes)), update with { Delta = ReadOnlyMemory<float>.Empty }, flops);
    }

    private ClientUpdate Read(TrainEntry entry)
    {
        var delta = new float[entry.Length / sizeof(float)];
        var bytes = MemoryMarshal.AsBytes(delta.AsSpan());
        if (RandomAccess.Read(_file.SafeFileHandle, bytes, entry.Offset) != entry.Length || Truncate(SHA256.HashData(bytes)) != entry.Digest)
        {
            throw new InvalidDataException($"training cache: the stored update at offset {entry.Offset} does not match its checksum");
        }

        return entry.Shell! with { Delta = delta };
    }

    private readonly record struct TrainKey(UInt128 Spec, long Round, int Worker, UInt128 Data, UInt128 Model);

    /// <summary>A stored update: where its delta lies in the file (length −1: training diverged), its checksum, the rest of the update.</summary>
    private sealed record TrainEntry(long Offset, int Length, UInt128 Digest, ClientUpdate? Shell, double Flops);
}
