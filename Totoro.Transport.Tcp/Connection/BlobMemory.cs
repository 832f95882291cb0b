using System.Buffers;

namespace Totoro.Transport.Tcp.Connection;

/// <summary>
/// The node's budget for inbound blob bytes (<c>max-blob-memory</c>): what blobs being reassembled have reserved
/// plus what delivered blobs still hold, and the pool their segments come from. Segments are rented as chunks
/// arrive, so a <c>BLOB_START</c> costs a reservation, not memory; the pool keeps at most the budget's worth.
/// </summary>
internal sealed class BlobMemory
{
    private readonly long limit;
    private long reserved;

    public BlobMemory(TcpTransportSettings settings)
    {
        limit = settings.MaxBlobMemory;
        Pool = ArrayPool<byte>.Create(settings.BlobChunkBytes, (int)Math.Max(1, settings.MaxBlobMemory / settings.BlobChunkBytes));
        SegmentBytes = settings.BlobChunkBytes;
    }

    public ArrayPool<byte> Pool { get; }

    /// <summary>Bytes one pooled segment is asked for; the pool may hand out a larger array.</summary>
    public int SegmentBytes { get; }

    /// <summary>Bytes reserved by blobs in reassembly or held by the upper layer.</summary>
    public long Reserved => Interlocked.Read(ref reserved);

    public long Limit => limit;

    /// <summary>Reserves <paramref name="bytes"/> under both this budget and the connection's; false if either is full.</summary>
    public bool TryReserve(BlobMemoryAccount account, long bytes)
    {
        if (!account.TryReserve(bytes))
        {
            return false;
        }
        if (Interlocked.Add(ref reserved, bytes) > limit)
        {
            Interlocked.Add(ref reserved, -bytes);
            account.Release(bytes);
            return false;
        }
        return true;
    }

    public void Release(BlobMemoryAccount account, long bytes)
    {
        account.Release(bytes);
        Interlocked.Add(ref reserved, -bytes);
    }
}

/// <summary>One connection's share of the blob budget (<c>max-blob-memory-per-connection</c>); outlives the connection while its blobs are held.</summary>
internal sealed class BlobMemoryAccount(long limit)
{
    private long reserved;

    public long Reserved => Interlocked.Read(ref reserved);

    public long Limit => limit;

    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref reserved, bytes) > limit)
        {
            Interlocked.Add(ref reserved, -bytes);
            return false;
        }
        return true;
    }

    public void Release(long bytes) => Interlocked.Add(ref reserved, -bytes);
}

/// <summary>
/// A blob being received: consecutive chunks copied into pooled segments that are rented as bytes arrive. Its
/// reservation covers the declared total; <see cref="Complete"/> hands segments and reservation to a
/// <see cref="BlobPayload"/>, <see cref="Abandon"/> returns both.
/// </summary>
internal sealed class BlobReassembly(BlobMemory memory, BlobMemoryAccount account, ulong id, long total, string recipient, string sender, string manifest)
{
    private readonly List<byte[]> segments = [];
    private int lastFill;
    private bool owned = true;

    public ulong Id { get; } = id;

    public long Total { get; } = total;

    public long Received { get; private set; }

    public string Recipient { get; } = recipient;

    public string Sender { get; } = sender;

    public string Manifest { get; } = manifest;

    public bool IsComplete => Received == Total;

    public void Append(ReadOnlySequence<byte> data)
    {
        foreach (var piece in data)
        {
            var span = piece.Span;
            while (!span.IsEmpty)
            {
                if (segments.Count == 0 || lastFill == segments[^1].Length)
                {
                    segments.Add(memory.Pool.Rent((int)Math.Min(memory.SegmentBytes, Total - Received)));
                    lastFill = 0;
                }
                var target = segments[^1].AsSpan(lastFill);
                var length = Math.Min(target.Length, span.Length);
                span[..length].CopyTo(target);
                span = span[length..];
                lastFill += length;
                Received += length;
            }
        }
    }

    public BlobPayload Complete()
    {
        owned = false;
        return new BlobPayload(memory, account, segments, Total);
    }

    public void Abandon()
    {
        if (!owned)
        {
            return;
        }
        owned = false;
        foreach (var segment in segments)
        {
            memory.Pool.Return(segment);
        }
        segments.Clear();
        memory.Release(account, Total);
    }
}
