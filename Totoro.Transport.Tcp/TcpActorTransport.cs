using System.Buffers;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Totoro.Kernel;
using KernelEnvelope = Totoro.Kernel.TransportEnvelope;
using WireEnvelope = Totoro.Transport.Tcp.TransportEnvelope;

namespace Totoro.Transport.Tcp;

/// <summary>
/// The kernel's remoting seam over TCP: one <see cref="TcpTransport"/> serving one actor system. Kernel address
/// <c>totoro://system@host:port</c> is TCP endpoint <c>host:port</c>; every node of a cluster uses the same system
/// name. A peer's connection going up or down is node up/down for the kernel (for peers the kernel monitors), and
/// a dial that keeps failing reports the peer down once. Monitoring a peer reports it down at once only when its last
/// dial or connection failed; a peer never contacted is reported when the dial that the kernel's first message
/// (the remote watch) triggers succeeds or fails. Messages whose manifest starts with one of
/// <see cref="TcpActorTransportOptions.ControlManifestPrefixes"/> take the control lane, ahead of bulk data.
/// </summary>
public sealed class TcpActorTransport : ITransport, ITcpTransportHandler, IAsyncDisposable
{
    private readonly TcpTransport tcp;
    private readonly SerializerRegistry registry;
    private readonly TcpActorTransportOptions options;
    private readonly ILogger logger;
    private readonly IMeterFactory? meterFactory;
    private Meter? meter;
    private readonly Lock gate = new();
    private readonly HashSet<NodeAddress> monitored = [];
    private readonly Dictionary<NodeAddress, bool> peerUp = [];
    private ITransportListener? listener;
    private Address? localAddress;
    private long unknownManifests;
    private long unbound;

    public TcpActorTransport(TcpTransportSettings settings, SerializerRegistry registry, TcpActorTransportOptions? options = null,
        TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        this.registry = registry;
        this.options = options ?? new TcpActorTransportOptions();
        var factory = loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        logger = factory.CreateLogger<TcpActorTransport>();
        tcp = new TcpTransport(settings, this, timeProvider, loggerFactory: factory, meterFactory: meterFactory);
        this.meterFactory = meterFactory;
    }

    /// <summary>The meter of the transport's instruments, tagged <c>totoro.node</c> = the local <c>host:port</c>.</summary>
    public const string MeterName = TcpTransportMetrics.MeterName;

    public bool PassByReference => false;

    /// <summary>The TCP library underneath: connected peers and transport counters.</summary>
    public TcpTransport Tcp => tcp;

    /// <summary>The kernel address this transport serves; valid once <see cref="StartAsync"/> returned.</summary>
    public Address LocalAddress => localAddress ?? throw new InvalidOperationException("The transport has not been started.");

    /// <summary>Inbound messages under a manifest no registered serializer reads (they become dead letters).</summary>
    public long UnknownManifests => Volatile.Read(ref unknownManifests);

    /// <summary>Inbound messages that arrived while no actor system was bound (before start or after shutdown).</summary>
    public long ArrivedUnbound => Volatile.Read(ref unbound);

    /// <summary>Raised on connection threads when any peer connects (true) or disconnects or stays unreachable (false).</summary>
    public event Action<NodeAddress, bool>? PeerReachabilityChanged;

    /// <summary>Binds the TCP listener; create the actor system on the returned address afterwards.</summary>
    public async Task<Address> StartAsync(CancellationToken cancellation = default)
    {
        var endpoint = await tcp.StartAsync(cancellation).ConfigureAwait(false);
        localAddress = ToKernel(endpoint);
        KeyValuePair<string, object?>[] tags = [new("totoro.node", endpoint.ToString())];
        meter = meterFactory?.Create(new MeterOptions(MeterName) { Tags = tags }) ?? new Meter(MeterName, null, tags);
        meter.CreateObservableCounter("totoro.transport.tcp.unknown-manifests", () => Volatile.Read(ref unknownManifests), "{message}");
        return localAddress;
    }

    /// <summary>Closes every connection and the listener; queued messages are dropped.</summary>
    public Task StopAsync() => tcp.StopAsync();

    public ValueTask DisposeAsync()
    {
        meter?.Dispose();
        return tcp.DisposeAsync();
    }

    public void Bind(Address local, ITransportListener listener)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(listener);
        if (local != LocalAddress)
        {
            throw new InvalidOperationException($"This transport serves {LocalAddress}; it cannot bind {local}");
        }
        lock (gate)
        {
            if (this.listener is not null)
            {
                throw new InvalidOperationException($"{local} is already bound");
            }
            this.listener = listener;
        }
    }

    public void Unbind(Address local)
    {
        lock (gate)
        {
            if (local == localAddress)
            {
                listener = null;
            }
        }
    }

    public void Send(Address from, Address to, KernelEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(envelope);
        if (to.Host is null)
        {
            logger.NoRemoteAddress(to, envelope.Manifest);
            return;
        }
        var lane = IsControl(envelope.Manifest) ? Lane.Control : Lane.Bulk;
        var result = tcp.Send(new NodeAddress(to.Host, to.Port), new WireEnvelope(envelope.Recipient, envelope.Sender ?? "", envelope.Manifest, envelope.Payload), lane);
        if (result != SendResult.Accepted)
        {
            logger.SendRefused(to, envelope.Manifest, result);
        }
    }

    public void MonitorPeer(Address local, Address peer, bool monitor)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Host is null)
        {
            return;
        }
        var endpoint = new NodeAddress(peer.Host, peer.Port);
        ITransportListener? reportDownTo;
        lock (gate)
        {
            if (!monitor)
            {
                monitored.Remove(endpoint);
                return;
            }
            monitored.Add(endpoint);
            reportDownTo = peerUp.TryGetValue(endpoint, out var up) && !up ? listener : null;
        }
        reportDownTo?.OnNodeDown(peer);
    }

    public bool IsControl(string manifest)
    {
        foreach (var prefix in options.ControlManifestPrefixes)
        {
            if (manifest.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    InboundResult ITcpTransportHandler.OnEnvelope(in InboundEnvelope envelope)
    {
        var wire = envelope.Envelope;
        if (!registry.HasManifest(wire.Manifest))
        {
            Interlocked.Increment(ref unknownManifests);
            logger.UnknownManifest(envelope.From, wire.Manifest);
        }
        var target = Volatile.Read(ref listener);
        if (target is null)
        {
            Interlocked.Increment(ref unbound);
            return InboundResult.Accepted;
        }
        string? sender = wire.Sender.Length == 0 ? null : wire.Sender;
        if (envelope.Blob is not { } blob)
        {
            target.OnReceive(new KernelEnvelope(wire.Recipient, sender, wire.Manifest, wire.Payload));
            return InboundResult.Accepted;
        }

        // A blob arrives in pooled segments that the transport takes back when this call returns. The kernel
        // deserializes synchronously inside OnReceive, so one contiguous view for the duration of the call
        // suffices: the segment itself when the blob fits one, else a rented copy returned right after.
        var data = blob.Data;
        if (data.IsSingleSegment)
        {
            target.OnReceive(new KernelEnvelope(wire.Recipient, sender, wire.Manifest, data.First));
            return InboundResult.Accepted;
        }

        int length = checked((int)data.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            data.CopyTo(rented);
            target.OnReceive(new KernelEnvelope(wire.Recipient, sender, wire.Manifest, rented.AsMemory(0, length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return InboundResult.Accepted;
    }

    void ITcpTransportHandler.OnPeerConnected(PeerInfo peer)
    {
        var node = ToKernel(peer.Address);
        var (target, wasUp, _) = Transition(peer.Address, up: true);
        if (target is not null)
        {
            if (wasUp && peer.Restarted)
            {
                // The old incarnation vanished without a disconnect we saw; its actors are gone.
                target.OnNodeDown(node);
            }
            target.OnNodeUp(node);
        }
        PeerReachabilityChanged?.Invoke(peer.Address, true);
    }

    void ITcpTransportHandler.OnPeerDisconnected(PeerInfo peer, CloseReason reason) => Down(peer.Address);

    void ITcpTransportHandler.OnPeerUnreachable(NodeAddress address, int consecutiveFailures, CloseReason reason) => Down(address);

    void ITcpTransportHandler.OnInboundRefused(string remote, CloseReason reason) => logger.InboundRefused(remote, reason);

    private void Down(NodeAddress address)
    {
        var (target, _, changed) = Transition(address, up: false);
        if (changed)
        {
            target?.OnNodeDown(ToKernel(address));
            PeerReachabilityChanged?.Invoke(address, false);
        }
    }

    /// <summary>
    /// Records the peer's new state. Changed means: it came up (every connect counts), or it went down from up or
    /// from never seen. The listener is returned only for a monitored peer.
    /// </summary>
    private (ITransportListener? Listener, bool WasUp, bool Changed) Transition(NodeAddress address, bool up)
    {
        lock (gate)
        {
            var known = peerUp.TryGetValue(address, out var wasUp);
            peerUp[address] = up;
            var changed = up || !known || wasUp;
            return (changed && monitored.Contains(address) ? listener : null, known && wasUp, changed);
        }
    }

    private Address ToKernel(NodeAddress endpoint) => new(options.SystemName, endpoint.Host, endpoint.Port);
}

/// <summary>How the actor transport maps the kernel onto TCP.</summary>
public sealed record TcpActorTransportOptions
{
    /// <summary>The actor system name every node of the cluster uses (addresses are <c>totoro://name@host:port</c>).</summary>
    public string SystemName { get; init; } = "totoro";

    /// <summary>Manifests that take the control lane: kernel death watch, ring maintenance, heartbeats, membership, ops.</summary>
    public IReadOnlyList<string> ControlManifestPrefixes { get; init; } = ["kernel.", "ring.", "node.", "ops."];
}
