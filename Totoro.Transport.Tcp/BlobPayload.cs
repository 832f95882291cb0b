using System.Buffers;
using Totoro.Transport.Tcp.Connection;

namespace Totoro.Transport.Tcp;

/// <summary>
/// The bytes of an inbound blob, in pooled segments counted against <c>max-blob-memory</c> and
/// <c>max-blob-memory-per-connection</c>. Valid during <see cref="ITcpTransportHandler.OnEnvelope"/>; the transport
/// releases it when the call returns unless the handler calls <see cref="Retain"/>, after which the handler owns
/// it and must <see cref="Dispose"/> it to give the memory back (until then it counts against both budgets).
/// </summary>
public sealed class BlobPayload : IDisposable
{
    private readonly BlobMemory memory;
    private readonly BlobMemoryAccount account;
    private readonly List<byte[]> segments;
    private readonly long length;
    private int state;

    internal BlobPayload(BlobMemory memory, BlobMemoryAccount account, List<byte[]> segments, long length)
    {
        this.memory = memory;
        this.account = account;
        this.segments = segments;
        this.length = length;
        Data = Sequence(segments, length);
    }

    private const int Delivered = 0;
    private const int Retained = 1;
    private const int Released = 2;

    /// <summary>The blob's bytes; one memory segment per pooled buffer.</summary>
    public ReadOnlySequence<byte> Data { get; }

    public long Length => length;

    /// <summary>Keeps the payload after OnEnvelope returns; the caller must dispose it.</summary>
    public void Retain()
    {
        if (Interlocked.CompareExchange(ref state, Retained, Delivered) != Delivered)
        {
            throw new InvalidOperationException("A blob payload can be retained once, and only during OnEnvelope.");
        }
    }

    /// <summary>Returns the segments to the pool and the bytes to the budgets; the data must not be used afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref state, Released) != Released)
        {
            Free();
        }
    }

    /// <summary>Called by the transport when OnEnvelope returned: releases the payload unless it was retained.</summary>
    internal void ReleaseUnlessRetained()
    {
        if (Interlocked.CompareExchange(ref state, Released, Delivered) == Delivered)
        {
            Free();
        }
    }

    private void Free()
    {
        foreach (var segment in segments)
        {
            memory.Pool.Return(segment);
        }
        memory.Release(account, length);
    }

    private static ReadOnlySequence<byte> Sequence(List<byte[]> segments, long length)
    {
        if (segments.Count == 1)
        {
            return new ReadOnlySequence<byte>(segments[0], 0, (int)length);
        }
        var first = new Segment(segments[0].AsMemory(0, (int)Math.Min(length, segments[0].Length)), 0);
        var last = first;
        var left = length - first.Memory.Length;
        for (var i = 1; i < segments.Count; i++)
        {
            var take = (int)Math.Min(left, segments[i].Length);
            last = last.Append(segments[i].AsMemory(0, take));
            left -= take;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
