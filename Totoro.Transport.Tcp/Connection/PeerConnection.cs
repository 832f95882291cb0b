using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Google.Protobuf;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Handshake;
using Totoro.Transport.Tcp.Wire;

namespace Totoro.Transport.Tcp.Connection;

/// <summary>
/// One authenticated connection: a read loop that validates and delivers frames, a write loop that drains the
/// peer's queue (control first, then blob chunks within credit, then batched bulk envelopes), and a timer for
/// pings and the idle timeout. Any violation by the peer closes this connection only.
/// </summary>
internal sealed class PeerConnection
{
    /// <summary>Blob bytes written between two looks at the control lane, so control frames interleave with a blob.</summary>
    private const int BlobBurstBytes = 1024 * 1024;

    private readonly TransportContext context;
    private readonly IDuplexPipe pipe;
    private readonly PeerQueue queue;
    private readonly AsyncSignal wake = new();
    private readonly Lock completion = new();
    private readonly List<OutboundItem> pending = [];
    private readonly List<int> envelopeSizes = [];
    private readonly long peerWindow;
    private readonly TimeSpan pingInterval;
    private readonly BlobMemoryAccount blobAccount;
    private long sendCredit;
    private long maxBlobBytesInFlight;
    private long receiveAllowance;
    private long creditOwed;
    private long pongOwed = -1;
    private int pingDue;
    private ulong pingSequence;
    private ulong nextBlobId;
    private long lastReceived;
    private long lastSent;
    private int closeReason = -1;
    private bool pipesCompleted;
    private string closeDetail = "";
    private long consumedUncredited;
    private BlobReassembly? inbound;
    private OutboundBlob? outbound;

    public PeerConnection(TransportContext context, IDuplexPipe pipe, PeerQueue queue, RemoteHello remote, PeerInfo info)
    {
        this.context = context;
        this.pipe = pipe;
        this.queue = queue;
        Remote = remote;
        Info = info;
        peerWindow = remote.BlobWindow;
        sendCredit = remote.BlobWindow;
        receiveAllowance = context.Settings.BlobWindowBytes;
        pingInterval = context.Settings.IdleTimeout / 4;
        blobAccount = new BlobMemoryAccount(context.Settings.MaxBlobMemoryPerConnection);
        lastReceived = lastSent = context.Time.GetTimestamp();
    }

    public RemoteHello Remote { get; }

    public PeerInfo Info { get; }

    public ConnectionDirection Direction => Info.Direction;

    public bool IsClosed => Volatile.Read(ref closeReason) >= 0;

    /// <summary>Most blob bytes this side ever had sent but not yet credited back (never above the peer's window).</summary>
    public long MaxBlobBytesInFlight => Interlocked.Read(ref maxBlobBytesInFlight);

    /// <summary>Tells the write loop the queue (or credit) changed.</summary>
    public void Wake() => wake.Set();

    /// <summary>Ends the connection; the first reason given is the one reported.</summary>
    public void Close(CloseReason reason, string detail = "")
    {
        if (Interlocked.CompareExchange(ref closeReason, (int)reason, -1) == -1)
        {
            closeDetail = detail;
            wake.Set();
            // The loops may already have seen the reason and the pipes been completed; cancelling a completed
            // stream pipe throws, so both sides of this race take the same lock.
            lock (completion)
            {
                if (!pipesCompleted)
                {
                    pipe.Input.CancelPendingRead();
                    pipe.Output.CancelPendingFlush();
                }
            }
        }
    }

    /// <summary>Runs until either loop ends; returns the reason the connection closed.</summary>
    public async Task<(CloseReason Reason, string Detail)> RunAsync()
    {
        var timer = context.Time.CreateTimer(static state => ((PeerConnection)state!).OnTick(), this, pingInterval, pingInterval);
        await using (timer)
        {
            await Task.WhenAll(ReadLoopAsync(), WriteLoopAsync());
        }
        // Counted before the pipes complete: completing them lets the socket close, and whoever sees that close
        // (a test, an operator) must already find the reason in the metrics.
        context.Metrics.ConnectionClosed((CloseReason)closeReason);
        lock (completion)
        {
            pipesCompleted = true;
        }
        await pipe.Input.CompleteAsync();
        await pipe.Output.CompleteAsync();
        return ((CloseReason)Volatile.Read(ref closeReason), closeDetail);
    }

    private void OnTick()
    {
        var now = context.Time.GetTimestamp();
        if (context.Time.GetElapsedTime(Interlocked.Read(ref lastReceived), now) > context.Settings.IdleTimeout)
        {
            Close(CloseReason.IdleTimeout, $"nothing received for {context.Settings.IdleTimeout}");
            return;
        }
        if (context.Time.GetElapsedTime(Interlocked.Read(ref lastSent), now) >= pingInterval)
        {
            Volatile.Write(ref pingDue, 1);
            wake.Set();
        }
    }

    private async Task ReadLoopAsync()
    {
        var input = pipe.Input;
        try
        {
            while (!IsClosed)
            {
                var result = await input.ReadAsync();
                if (result.IsCanceled)
                {
                    break;
                }
                Interlocked.Exchange(ref lastReceived, context.Time.GetTimestamp());
                var buffer = result.Buffer;
                try
                {
                    while (!IsClosed && FrameCodec.TryReadFrame(ref buffer, context.Settings.MaxFrameBytes, out var type, out var lane, out var payload))
                    {
                        context.Metrics.BytesReceived(FrameCodec.HeaderBytes + payload.Length);
                        HandleFrame(type, lane, payload);
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }
                GrantConsumed();
                if (result.IsCompleted)
                {
                    Close(buffer.IsEmpty ? CloseReason.RemoteClosed : CloseReason.TruncatedFrame,
                        buffer.IsEmpty ? "peer closed the connection" : $"connection ended {buffer.Length} bytes into a frame");
                    break;
                }
            }
        }
        catch (ProtocolViolationException violation)
        {
            Close(violation.Reason, violation.Message);
        }
        catch (Exception lost) when (IsConnectionLoss(lost))
        {
            Close(CloseReason.ConnectionReset, lost.Message);
        }
        catch (Exception failure)
        {
            context.Logger.InternalError(Info.Address, failure);
            Close(CloseReason.InternalError, failure.Message);
        }
        finally
        {
            Close(CloseReason.RemoteClosed);
            inbound?.Abandon();
            inbound = null;
        }
    }

    /// <summary>
    /// Owes the peer credit for the blob bytes the last read consumed: copied into reassembly segments and released
    /// from the receive pipe. Granted in steps of a quarter window, and whenever the peer may be waiting on it.
    /// </summary>
    private void GrantConsumed()
    {
        if (consumedUncredited == 0)
        {
            return;
        }
        var owed = Interlocked.Add(ref creditOwed, consumedUncredited);
        consumedUncredited = 0;
        if (inbound is null || owed >= context.Settings.BlobWindowBytes / 4)
        {
            wake.Set();
        }
    }

    private void HandleFrame(FrameType type, Lane lane, ReadOnlySequence<byte> payload)
    {
        switch (type)
        {
            case FrameType.Batch:
                HandleBatch(lane, Parse(EnvelopeBatch.Parser, payload));
                break;
            case FrameType.Heartbeat:
                var heartbeat = Parse(Heartbeat.Parser, payload);
                if (!heartbeat.Reply)
                {
                    Interlocked.Exchange(ref pongOwed, (long)(heartbeat.Sequence & long.MaxValue));
                    wake.Set();
                }
                break;
            case FrameType.BlobStart:
                HandleBlobStart(Parse(BlobStart.Parser, payload));
                break;
            case FrameType.BlobChunk:
                FrameCodec.ReadBlobChunk(payload, out var blobId, out var offset, out var data);
                HandleBlobChunk(blobId, offset, data);
                break;
            case FrameType.Credit:
                HandleCredit(Parse(Credit.Parser, payload));
                break;
            default:
                throw new ProtocolViolationException(CloseReason.HandshakeViolation, $"{type} frame after the handshake");
        }
    }

    private void HandleBatch(Lane lane, EnvelopeBatch batch)
    {
        if (batch.Envelopes.Count == 0)
        {
            throw new ProtocolViolationException(CloseReason.MalformedFrame, "empty envelope batch");
        }
        foreach (var envelope in batch.Envelopes)
        {
            CheckHeader(envelope.Recipient, envelope.Sender, envelope.Manifest);
            Deliver(lane, new TransportEnvelope(envelope.Recipient, envelope.Sender, envelope.Manifest, envelope.Payload.Memory));
        }
        context.Metrics.MessagesReceived(batch.Envelopes.Count);
    }

    private void HandleBlobStart(BlobStart start)
    {
        if (inbound is not null)
        {
            throw new ProtocolViolationException(CloseReason.BlobViolation, $"blob {start.BlobId} started while blob {inbound.Id} is incomplete");
        }
        if (start.TotalBytes == 0 || start.TotalBytes > (ulong)context.Settings.MaxBlobBytes)
        {
            throw new ProtocolViolationException(CloseReason.BlobTooLarge,
                $"blob of {start.TotalBytes} bytes outside 1..max-blob-bytes {context.Settings.MaxBlobBytes}");
        }
        CheckHeader(start.Recipient, start.Sender, start.Manifest);
        var total = (long)start.TotalBytes;
        if (!context.BlobMemory.TryReserve(blobAccount, total))
        {
            throw new ProtocolViolationException(CloseReason.BlobMemoryExhausted,
                $"blob of {total} bytes does not fit: {blobAccount.Reserved} of max-blob-memory-per-connection {blobAccount.Limit} and "
                + $"{context.BlobMemory.Reserved} of max-blob-memory {context.BlobMemory.Limit} bytes are held");
        }
        inbound = new BlobReassembly(context.BlobMemory, blobAccount, start.BlobId, total, start.Recipient, start.Sender, start.Manifest);
    }

    private void HandleBlobChunk(ulong blobId, ulong offset, ReadOnlySequence<byte> data)
    {
        var blob = inbound ?? throw new ProtocolViolationException(CloseReason.BlobViolation, "chunk without a blob start");
        if (blobId != blob.Id || offset != (ulong)blob.Received || data.Length == 0
            || data.Length > context.Settings.BlobChunkBytes || data.Length > blob.Total - blob.Received)
        {
            throw new ProtocolViolationException(CloseReason.BlobViolation,
                $"chunk (blob {blobId}, offset {offset}, {data.Length} bytes) does not continue blob {blob.Id} at {blob.Received}");
        }
        if (Interlocked.Add(ref receiveAllowance, -data.Length) < 0)
        {
            throw new ProtocolViolationException(CloseReason.FlowControlViolation, "peer sent blob bytes beyond the credit granted");
        }
        blob.Append(data);
        consumedUncredited += data.Length;
        if (blob.IsComplete)
        {
            inbound = null;
            context.Metrics.BlobReceived();
            context.Metrics.MessagesReceived(1);
            Deliver(Lane.Bulk, new TransportEnvelope(blob.Recipient, blob.Sender, blob.Manifest, ReadOnlyMemory<byte>.Empty), blob.Complete());
        }
    }

    private void HandleCredit(Credit credit)
    {
        if (credit.Bytes == 0 || (long)Math.Min(credit.Bytes, long.MaxValue) > peerWindow - Interlocked.Read(ref sendCredit))
        {
            throw new ProtocolViolationException(CloseReason.FlowControlViolation, $"credit of {credit.Bytes} bytes exceeds the bytes in flight");
        }
        Interlocked.Add(ref sendCredit, (long)credit.Bytes);
        wake.Set();
    }

    private void CheckHeader(string recipient, string sender, string manifest)
    {
        if (manifest.Length == 0)
        {
            throw new ProtocolViolationException(CloseReason.MalformedFrame, "envelope without a manifest");
        }
        // UTF-16 length is a lower bound of the UTF-8 length, so this never rejects what Send accepted.
        if (recipient.Length + sender.Length + manifest.Length > context.Settings.MaxEnvelopeHeaderBytes)
        {
            throw new ProtocolViolationException(CloseReason.HeaderTooLarge, "envelope header exceeds max-envelope-header-bytes");
        }
    }

    private void Deliver(Lane lane, TransportEnvelope envelope, BlobPayload? blob = null)
    {
        InboundResult result;
        try
        {
            result = context.Handler.OnEnvelope(new InboundEnvelope(Info.Address, lane, envelope, blob));
        }
        catch (Exception failure)
        {
            // The upper layer's bug must not take the node down; this peer's connection pays for it, visibly.
            context.Logger.HandlerFailed(Info.Address, failure);
            throw new ProtocolViolationException(CloseReason.HandlerFailed, failure.Message);
        }
        finally
        {
            blob?.ReleaseUnlessRetained();
        }
        switch (result)
        {
            case InboundResult.Accepted:
                return;
            case InboundResult.UnknownManifest:
                throw new ProtocolViolationException(CloseReason.UnknownManifest, $"unknown manifest '{envelope.Manifest}'");
            default:
                throw new ProtocolViolationException(CloseReason.MalformedPayload, $"payload of '{envelope.Manifest}' does not parse");
        }
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException malformed)
        {
            throw new ProtocolViolationException(CloseReason.MalformedFrame, $"{typeof(T).Name} does not parse: {malformed.Message}");
        }
    }

    private async Task WriteLoopAsync()
    {
        var output = pipe.Output;
        try
        {
            while (!IsClosed)
            {
                var written = WriteControl(output) + WriteBlobChunks(output) + WriteBulk(output);
                if (written == 0)
                {
                    await wake.WaitAsync();
                    continue;
                }
                Interlocked.Exchange(ref lastSent, context.Time.GetTimestamp());
                context.Metrics.BytesSent(written);
                var flushed = await output.FlushAsync();
                if (flushed.IsCompleted)
                {
                    Close(CloseReason.RemoteClosed, "peer stopped reading");
                }

            }
        }
        catch (Exception lost) when (IsConnectionLoss(lost))
        {
            Close(CloseReason.ConnectionReset, lost.Message);
        }
        catch (Exception failure)
        {
            context.Logger.InternalError(Info.Address, failure);
            Close(CloseReason.InternalError, failure.Message);
        }
    }

    private int WriteControl(PipeWriter output)
    {
        var written = 0;
        var credit = Interlocked.Exchange(ref creditOwed, 0);
        if (credit > 0)
        {
            // Raise the allowance before the grant can reach the peer; afterwards the peer may already be using it.
            Interlocked.Add(ref receiveAllowance, credit);
            written += FrameCodec.WriteMessage(output, FrameType.Credit, Lane.Control, new Credit { Bytes = (ulong)credit });
        }
        var pong = Interlocked.Exchange(ref pongOwed, -1);
        if (pong >= 0)
        {
            written += FrameCodec.WriteMessage(output, FrameType.Heartbeat, Lane.Control, new Heartbeat { Sequence = (ulong)pong, Reply = true });
        }
        if (Interlocked.Exchange(ref pingDue, 0) == 1)
        {
            written += FrameCodec.WriteMessage(output, FrameType.Heartbeat, Lane.Control, new Heartbeat { Sequence = ++pingSequence });
        }
        if (queue.HasControl)
        {
            queue.TakeControl(pending);
            written += WriteBatches(output, pending, pending.Count, Lane.Control);
            pending.Clear();
        }
        return written;
    }

    private int WriteBlobChunks(PipeWriter output)
    {
        var written = 0;
        var burst = 0;
        while (outbound is { } blob && burst < BlobBurstBytes)
        {
            var payload = blob.Item.Envelope.Payload;
            var length = Math.Min(context.Settings.BlobChunkBytes, payload.Length - blob.Offset);
            var credit = Interlocked.Read(ref sendCredit);
            if (credit < length)
            {
                break;
            }
            written += FrameCodec.WriteBlobChunk(output, blob.Id, (ulong)blob.Offset, payload.Span.Slice(blob.Offset, length));
            var inFlight = peerWindow - Interlocked.Add(ref sendCredit, -length);
            if (inFlight > maxBlobBytesInFlight)
            {
                Interlocked.Exchange(ref maxBlobBytesInFlight, inFlight);
            }
            blob.Offset += length;
            burst += length;
            if (blob.Offset == payload.Length)
            {
                outbound = null;
                context.Metrics.BlobSent();
                context.Metrics.MessagesSent(1, 0);
            }
        }
        return written;
    }

    private int WriteBulk(PipeWriter output)
    {
        if (outbound is not null)
        {
            return 0;
        }
        queue.TakeBulk(pending, context.Settings.MaxBatchBytes);
        if (pending.Count == 0)
        {
            return 0;
        }
        var last = pending[^1];
        var smallCount = last.IsBlob ? pending.Count - 1 : pending.Count;
        var written = WriteBatches(output, pending, smallCount, Lane.Bulk);
        pending.Clear();
        if (last.IsBlob)
        {
            var id = ++nextBlobId;
            written += FrameCodec.WriteMessage(output, FrameType.BlobStart, Lane.Bulk, new BlobStart
            {
                BlobId = id,
                TotalBytes = (ulong)last.Envelope.Payload.Length,
                Recipient = last.Envelope.Recipient,
                Sender = last.Envelope.Sender,
                Manifest = last.Envelope.Manifest,
            });
            outbound = new OutboundBlob(last, id);
        }
        return written;
    }

    /// <summary>Writes items[0..count) as batch frames of about max-batch-bytes each.</summary>
    private int WriteBatches(PipeWriter output, List<OutboundItem> items, int count, Lane lane)
    {
        var written = 0;
        var first = 0;
        while (first < count)
        {
            envelopeSizes.Clear();
            var frameBytes = 0;
            var end = first;
            while (end < count)
            {
                var size = FrameCodec.EnvelopeSize(items[end]);
                var entry = FrameCodec.BatchEntrySize(size);
                if (end > first && frameBytes + entry > context.Settings.MaxBatchBytes)
                {
                    break;
                }
                envelopeSizes.Add(size);
                frameBytes += entry;
                end++;
            }
            FrameCodec.WriteHeader(output.GetSpan(FrameCodec.HeaderBytes), frameBytes, FrameType.Batch, lane);
            output.Advance(FrameCodec.HeaderBytes);
            for (var i = first; i < end; i++)
            {
                FrameCodec.WriteBatchEntry(output, items[i], envelopeSizes[i - first]);
            }
            context.Metrics.MessagesSent(end - first, 0);
            written += FrameCodec.HeaderBytes + frameBytes;
            first = end;
        }
        return written;
    }

    internal static bool IsConnectionLoss(Exception exception) => exception is IOException or SocketException
        or ConnectionResetException or ConnectionAbortedException or ObjectDisposedException;

    private sealed class OutboundBlob(OutboundItem item, ulong id)
    {
        public OutboundItem Item { get; } = item;

        public ulong Id { get; } = id;

        public int Offset { get; set; }
    }
}
