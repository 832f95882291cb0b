using System.Diagnostics.Metrics;

namespace Totoro.Transport.Tcp;

/// <summary>
/// Counters kept as plain fields (one interlocked add on the hot path) and published through a
/// <see cref="Meter"/> named <c>Totoro.Transport.Tcp</c> as observable instruments.
/// </summary>
internal sealed class TcpTransportMetrics : IDisposable
{
    public const string MeterName = "Totoro.Transport.Tcp";

    private readonly long[] closes = new long[CloseReasons.Count];
    private readonly long[] drops = new long[Enum.GetValues<SendResult>().Length];
    private readonly Meter meter;
    private readonly Func<long> blobMemory;
    private long messagesSent;
    private long messagesReceived;
    private long bytesSent;
    private long bytesReceived;
    private long connectionsOpened;
    private long blobsSent;
    private long blobsReceived;

    public TcpTransportMetrics(string localAddress, Func<long> queueDepth, Func<int> activeConnections, Func<long> blobMemory,
        IMeterFactory? meterFactory)
    {
        this.blobMemory = blobMemory;
        KeyValuePair<string, object?>[] tags = [new("totoro.node", localAddress)];
        meter = meterFactory?.Create(new MeterOptions(MeterName) { Tags = tags }) ?? new Meter(MeterName, null, tags);
        meter.CreateObservableCounter("totoro.transport.tcp.messages.sent", () => Volatile.Read(ref messagesSent), "{message}");
        meter.CreateObservableCounter("totoro.transport.tcp.messages.received", () => Volatile.Read(ref messagesReceived), "{message}");
        meter.CreateObservableCounter("totoro.transport.tcp.bytes.sent", () => Volatile.Read(ref bytesSent), "By");
        meter.CreateObservableCounter("totoro.transport.tcp.bytes.received", () => Volatile.Read(ref bytesReceived), "By");
        meter.CreateObservableCounter("totoro.transport.tcp.blobs.sent", () => Volatile.Read(ref blobsSent), "{blob}");
        meter.CreateObservableCounter("totoro.transport.tcp.blobs.received", () => Volatile.Read(ref blobsReceived), "{blob}");
        meter.CreateObservableCounter("totoro.transport.tcp.connections.opened", () => Volatile.Read(ref connectionsOpened), "{connection}");
        meter.CreateObservableUpDownCounter("totoro.transport.tcp.connections.active", activeConnections, "{connection}");
        meter.CreateObservableCounter("totoro.transport.tcp.connections.closed", () => Tagged(closes, r => ((CloseReason)r).Tag()), "{connection}");
        meter.CreateObservableCounter("totoro.transport.tcp.rejects", () => Tagged(closes, r => ((CloseReason)r).Tag(), r => ((CloseReason)r).IsReject()), "{connection}");
        meter.CreateObservableCounter("totoro.transport.tcp.sends.dropped", () => Tagged(drops, r => ((SendResult)r).ToString()), "{message}");
        meter.CreateObservableGauge("totoro.transport.tcp.queue.depth", queueDepth, "{message}");
        meter.CreateObservableGauge("totoro.transport.tcp.blob.memory", blobMemory, "By");
    }

    public void MessagesSent(int count, long bytes)
    {
        Interlocked.Add(ref messagesSent, count);
        Interlocked.Add(ref bytesSent, bytes);
    }

    public void BytesSent(long bytes) => Interlocked.Add(ref bytesSent, bytes);

    public void MessagesReceived(int count) => Interlocked.Add(ref messagesReceived, count);

    public void BytesReceived(long bytes) => Interlocked.Add(ref bytesReceived, bytes);

    public void BlobSent() => Interlocked.Increment(ref blobsSent);

    public void BlobReceived() => Interlocked.Increment(ref blobsReceived);

    public void ConnectionOpened() => Interlocked.Increment(ref connectionsOpened);

    public void ConnectionClosed(CloseReason reason) => Interlocked.Increment(ref closes[(int)reason]);

    public void SendDropped(SendResult result) => Interlocked.Increment(ref drops[(int)result]);

    public TcpTransportStats Snapshot(long queueDepth, int activeConnections)
    {
        var byReason = new Dictionary<CloseReason, long>();
        for (var i = 0; i < closes.Length; i++)
        {
            var count = Volatile.Read(ref closes[i]);
            if (count > 0)
            {
                byReason[(CloseReason)i] = count;
            }
        }
        var dropped = new Dictionary<SendResult, long>();
        for (var i = 1; i < drops.Length; i++)
        {
            var count = Volatile.Read(ref drops[i]);
            if (count > 0)
            {
                dropped[(SendResult)i] = count;
            }
        }
        return new TcpTransportStats(
            Volatile.Read(ref messagesSent), Volatile.Read(ref messagesReceived), Volatile.Read(ref bytesSent),
            Volatile.Read(ref bytesReceived), Volatile.Read(ref blobsSent), Volatile.Read(ref blobsReceived),
            Volatile.Read(ref connectionsOpened), activeConnections, queueDepth, blobMemory(), byReason, dropped);
    }

    public void Dispose() => meter.Dispose();

    private static IEnumerable<Measurement<long>> Tagged(long[] counts, Func<int, string> tag, Func<int, bool>? include = null)
    {
        for (var i = 0; i < counts.Length; i++)
        {
            var count = Volatile.Read(ref counts[i]);
            if (count > 0 && (include is null || include(i)))
            {
                yield return new Measurement<long>(count, new KeyValuePair<string, object?>("reason", tag(i)));
            }
        }
    }
}

/// <summary>A point-in-time copy of the transport's counters.</summary>
/// <param name="Closes">Connections ended or refused, by reason (rejects are the reasons where <see cref="CloseReasons.IsReject"/>).</param>
/// <param name="BlobMemoryBytes">Inbound blob bytes reserved now: blobs in reassembly plus blobs the upper layer retained.</param>
/// <param name="SendsDropped">Sends that were not accepted, by result.</param>
public sealed record TcpTransportStats(
    long MessagesSent,
    long MessagesReceived,
    long BytesSent,
    long BytesReceived,
    long BlobsSent,
    long BlobsReceived,
    long ConnectionsOpened,
    int ActiveConnections,
    long QueueDepth,
    long BlobMemoryBytes,
    IReadOnlyDictionary<CloseReason, long> Closes,
    IReadOnlyDictionary<SendResult, long> SendsDropped)
{
    public long Rejects => Closes.Where(kv => kv.Key.IsReject()).Sum(kv => kv.Value);

    public long ClosedWith(CloseReason reason) => Closes.TryGetValue(reason, out var count) ? count : 0;
}
