using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Totoro.Transport.Tcp.Connection;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Handshake;

namespace Totoro.Transport.Tcp;

/// <summary>
/// A node's TCP endpoint: a Kestrel listener for inbound connections, dialers for outbound ones, one authenticated
/// connection per peer, and bounded per-peer queues. Send never blocks; inbound envelopes and peer events go to
/// the <see cref="ITcpTransportHandler"/>.
/// </summary>
public sealed class TcpTransport : IAsyncDisposable
{
    private readonly TcpTransportSettings settings;
    private readonly ITcpTransportHandler handler;
    private readonly TimeProvider time;
    private readonly Random random;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger logger;
    private readonly IMeterFactory? meterFactory;
    private readonly Lock gate = new();
    private readonly Dictionary<NodeAddress, Peer> peers = [];
    private readonly HashSet<Task> running = [];
    private readonly CancellationTokenSource lifetime = new();
    private TlsContext? tls;
    private KestrelListener? listener;
    private TransportContext? context;
    private volatile bool accepting;
    private int activeConnections;

    public TcpTransport(TcpTransportSettings settings, ITcpTransportHandler handler, TimeProvider? timeProvider = null,
        Random? random = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(handler);
        this.settings = settings.Validate();
        this.handler = handler;
        time = timeProvider ?? TimeProvider.System;
        this.random = random ?? new Random();
        this.loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        logger = this.loggerFactory.CreateLogger<TcpTransport>();
        this.meterFactory = meterFactory;
    }

    /// <summary>The address peers dial, with the bound port; valid once <see cref="StartAsync"/> returned.</summary>
    public NodeAddress LocalAddress { get; private set; }

    private TransportContext Context => context ?? throw new InvalidOperationException("The transport has not been started.");

    /// <summary>Binds the listener and returns the address peers should dial.</summary>
    public async Task<NodeAddress> StartAsync(CancellationToken cancellation = default)
    {
        if (context is not null)
        {
            throw new InvalidOperationException("The transport was already started.");
        }
        tls = settings.Tls is null ? null : new TlsContext(settings.Tls);
        listener = await KestrelListener.StartAsync(this, settings, loggerFactory, cancellation);
        LocalAddress = new NodeAddress(settings.AdvertisedHost ?? settings.BindHost, listener.EndPoint.Port);
        var blobMemory = new BlobMemory(settings);
        var metrics = new TcpTransportMetrics(LocalAddress.ToString(), QueueDepth, () => Volatile.Read(ref activeConnections),
            () => blobMemory.Reserved, meterFactory);
        context = new TransportContext(settings, handler, metrics, logger, time, blobMemory);
        accepting = true;
        logger.Listening(settings.NodeId, LocalAddress, tls is not null);
        return LocalAddress;
    }

    /// <summary>
    /// Queues an envelope for the node at <paramref name="to"/>, dialing it if needed. Payloads larger than the blob
    /// chunk size travel as chunked blobs on the bulk lane. Never blocks; see <see cref="SendResult"/>.
    /// </summary>
    public SendResult Send(NodeAddress to, in TransportEnvelope envelope, Lane lane = Lane.Bulk)
    {
        var result = TrySend(to, envelope, lane);
        if (result != SendResult.Accepted && context is not null)
        {
            context.Metrics.SendDropped(result);
        }
        return result;
    }

    private SendResult TrySend(NodeAddress to, in TransportEnvelope envelope, Lane lane)
    {
        if (!accepting)
        {
            return SendResult.Stopped;
        }
        if (string.IsNullOrEmpty(envelope.Manifest) || to == LocalAddress || lane > Lane.Bulk)
        {
            return SendResult.InvalidEnvelope;
        }
        var recipientBytes = Encoding.UTF8.GetByteCount(envelope.Recipient ?? "");
        var senderBytes = Encoding.UTF8.GetByteCount(envelope.Sender ?? "");
        var manifestBytes = Encoding.UTF8.GetByteCount(envelope.Manifest);
        var isBlob = envelope.Payload.Length > settings.BlobChunkBytes;
        if (recipientBytes + senderBytes + manifestBytes > settings.MaxEnvelopeHeaderBytes
            || envelope.Payload.Length > settings.MaxBlobBytes || (isBlob && lane == Lane.Control))
        {
            return SendResult.TooLarge;
        }
        var peer = GetOrAddPeer(to);
        var item = new OutboundItem(envelope with { Recipient = envelope.Recipient ?? "", Sender = envelope.Sender ?? "" },
            recipientBytes, senderBytes, manifestBytes, isBlob);
        if (!peer.Queue.TryEnqueue(item, lane))
        {
            return SendResult.QueueFull;
        }
        if (peer.Connection is { } connection)
        {
            connection.Wake();
        }
        else
        {
            EnsureDialing(peer);
        }
        return SendResult.Accepted;
    }

    /// <summary>Peers with an authenticated connection right now.</summary>
    public IReadOnlyList<PeerInfo> ConnectedPeers()
    {
        lock (gate)
        {
            return [.. peers.Values.Select(p => p.Connection).OfType<PeerConnection>().Select(c => c.Info)];
        }
    }

    /// <summary>A copy of the counters (also published on the <c>Totoro.Transport.Tcp</c> meter).</summary>
    public TcpTransportStats GetStats() => Context.Metrics.Snapshot(QueueDepth(), Volatile.Read(ref activeConnections));

    /// <summary>Closes every connection, stops listening and drops what is still queued.</summary>
    public async Task StopAsync()
    {
        if (!accepting)
        {
            return;
        }
        accepting = false;
        await lifetime.CancelAsync();
        Peer[] all;
        lock (gate)
        {
            all = [.. peers.Values];
        }
        foreach (var peer in all)
        {
            peer.Connection?.Close(CloseReason.LocalShutdown, "transport stopping");
        }
        if (listener is not null)
        {
            await listener.DisposeAsync();
        }
        Task[] pending;
        lock (gate)
        {
            pending = [.. running];
        }
        await Task.WhenAll(pending);
        foreach (var peer in all)
        {
            var dropped = peer.Queue.Clear();
            if (dropped > 0)
            {
                logger.DroppedAtShutdown(dropped, peer.Address);
            }
        }
        tls?.Dispose();
        logger.Stopped(LocalAddress);
        context?.Metrics.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        lifetime.Dispose();
    }

    /// <summary>The connection currently serving <paramref name="address"/>; for tests.</summary>
    internal PeerConnection? ConnectionTo(NodeAddress address)
    {
        lock (gate)
        {
            return peers.TryGetValue(address, out var peer) ? peer.Connection : null;
        }
    }

    /// <summary>Called by Kestrel for every accepted connection; returns when the connection is over.</summary>
    internal async Task AcceptAsync(IDuplexPipe transport, string remote)
    {
        if (!accepting)
        {
            return;
        }
        IDuplexPipe pipe = transport;
        DuplexConnection? decrypted = null;
        RemoteHello hello;
        using (var deadline = new CancellationTokenSource(settings.HandshakeTimeout, time))
        using (var cancellation = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, lifetime.Token))
        {
            try
            {
                if (tls is not null)
                {
                    decrypted = await tls.AuthenticateAsServerAsync(transport, cancellation.Token);
                    pipe = decrypted;
                }
                hello = await HandshakeProtocol.AcceptAsync(pipe, settings, LocalAddress, cancellation.Token);
            }
            catch (Exception failure) when (Classify(failure, deadline) is { } reason)
            {
                if (decrypted is not null)
                {
                    await decrypted.DisposeAsync();
                }
                Refused(remote, reason, failure.Message);
                return;
            }
        }
        var peer = GetOrAddPeer(hello.Address);
        var (connection, refusal) = Attach(peer, hello, pipe, ConnectionDirection.Inbound);
        if (connection is null)
        {
            Refused(remote, refusal, "the pair already has a connection dialed by the lower address");
            await HandshakeProtocol.RefuseAsync(pipe.Output, refusal, "duplicate connection", CancellationToken.None);
            if (decrypted is not null)
            {
                await decrypted.DisposeAsync();
            }
            return;
        }
        try
        {
            await HandshakeProtocol.AdmitAsync(pipe.Output, lifetime.Token);
        }
        catch (Exception failure) when (Classify(failure, null) is { } reason)
        {
            connection.Close(reason, failure.Message);
        }
        await RunAsync(peer, connection, decrypted);
    }

    private void Refused(string remote, CloseReason reason, string detail)
    {
        Context.Metrics.ConnectionClosed(reason);
        if (reason.IsReject())
        {
            logger.Rejected(remote, reason, detail);
        }
        handler.OnInboundRefused(remote, reason);
    }

    private Peer GetOrAddPeer(NodeAddress address)
    {
        lock (gate)
        {
            if (!peers.TryGetValue(address, out var peer))
            {
                peer = new Peer(address, settings);
                peers.Add(address, peer);
            }
            return peer;
        }
    }

    /// <summary>
    /// Makes a freshly authenticated connection the one serving <paramref name="peer"/>, or refuses it. Of two
    /// connections between the same pair, the one dialed by the lower address wins on both sides; a connection
    /// from a new incarnation always replaces one from an old incarnation.
    /// </summary>
    private (PeerConnection? Connection, CloseReason Refusal) Attach(Peer peer, RemoteHello hello, IDuplexPipe pipe, ConnectionDirection direction)
    {
        PeerConnection connection;
        PeerConnection? replaced;
        lock (peer.Gate)
        {
            var existing = peer.Connection;
            var dialer = direction == ConnectionDirection.Outbound ? LocalAddress : hello.Address;
            if (existing is not null && existing.Remote.Incarnation == hello.Incarnation)
            {
                var existingDialer = existing.Direction == ConnectionDirection.Outbound ? LocalAddress : existing.Remote.Address;
                if (dialer > existingDialer)
                {
                    return (null, CloseReason.Duplicate);
                }
            }
            else if (existing is null && direction == ConnectionDirection.Inbound && peer.Handshaking && LocalAddress < hello.Address)
            {
                return (null, CloseReason.Duplicate);
            }
            var restarted = peer.LastIncarnation != 0 && peer.LastIncarnation != hello.Incarnation;
            peer.LastIncarnation = hello.Incarnation;
            var info = new PeerInfo(hello.Address, hello.NodeId, hello.Incarnation, restarted, direction);
            connection = new PeerConnection(Context, pipe, peer.Queue, hello, info);
            replaced = existing;
            peer.Connection = connection;
        }
        replaced?.Close(CloseReason.Superseded, "replaced by a newer connection to the same peer");
        Interlocked.Increment(ref activeConnections);
        Context.Metrics.ConnectionOpened();
        logger.PeerConnected(connection.Info.Address, connection.Info.NodeId, connection.Info.Incarnation, direction, connection.Info.Restarted);
        handler.OnPeerConnected(connection.Info);
        return (connection, default);
    }

    /// <summary>Runs an attached connection to its end, then reports and, if messages wait, redials.</summary>
    private async Task RunAsync(Peer peer, PeerConnection connection, IAsyncDisposable? owner)
    {
        var (reason, detail) = await connection.RunAsync();
        if (owner is not null)
        {
            await owner.DisposeAsync();
        }
        Interlocked.Decrement(ref activeConnections);
        if (reason.IsReject())
        {
            logger.Violation(peer.Address, reason, detail);
        }
        else
        {
            logger.ConnectionLost(peer.Address, detail);
        }
        bool current;
        lock (peer.Gate)
        {
            current = peer.Connection == connection;
            if (current)
            {
                peer.Connection = null;
            }
        }
        if (current)
        {
            logger.PeerDisconnected(peer.Address, reason);
            handler.OnPeerDisconnected(connection.Info, reason);
            if (peer.Queue.Count > 0)
            {
                EnsureDialing(peer);
            }
        }
    }

    private void EnsureDialing(Peer peer)
    {
        lock (peer.Gate)
        {
            if (peer.Dialing || peer.Connection is not null || !accepting)
            {
                return;
            }
            peer.Dialing = true;
        }
        Track(DialLoopAsync(peer));
    }

    private void Track(Task task)
    {
        lock (gate)
        {
            running.Add(task);
        }
        task.ContinueWith(static (done, state) =>
        {
            var self = (TcpTransport)state!;
            lock (self.gate)
            {
                self.running.Remove(done);
            }
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Dials until a connection serves the peer, backing off exponentially with jitter between failures.</summary>
    private async Task DialLoopAsync(Peer peer)
    {
        // Send must never block on a connect, so the first attempt already runs off the caller's thread.
        await Task.Yield();
        var failures = 0;
        while (true)
        {
            lock (peer.Gate)
            {
                if (peer.Connection is not null || !accepting || (failures > 0 && peer.Queue.Count == 0))
                {
                    peer.Dialing = false;
                    return;
                }
                peer.Handshaking = true;
            }
            var reason = await DialOnceAsync(peer);
            lock (peer.Gate)
            {
                peer.Handshaking = false;
            }
            if (reason is null)
            {
                lock (peer.Gate)
                {
                    peer.Dialing = false;
                }
                return;
            }
            if (reason == CloseReason.LocalShutdown)
            {
                lock (peer.Gate)
                {
                    peer.Dialing = false;
                }
                return;
            }
            failures++;
            var delay = Backoff(failures);
            if (reason == CloseReason.Duplicate)
            {
                logger.DialDuplicate(peer.Address);
            }
            else
            {
                logger.DialFailed(peer.Address, failures, reason.Value, delay);
                handler.OnPeerUnreachable(peer.Address, failures, reason.Value);
            }
            try
            {
                await Task.Delay(delay, time, lifetime.Token);
            }
            catch (OperationCanceledException)
            {
                lock (peer.Gate)
                {
                    peer.Dialing = false;
                }
                return;
            }
        }
    }

    /// <summary>One connect + handshake; null when a connection now serves the peer, else why not.</summary>
    private async Task<CloseReason?> DialOnceAsync(Peer peer)
    {
        using var deadline = new CancellationTokenSource(settings.HandshakeTimeout, time);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, lifetime.Token);
        DuplexConnection? connection = null;
        try
        {
            connection = await Dialer.ConnectAsync(peer.Address, settings, tls, cancellation.Token);
            var hello = await HandshakeProtocol.DialAsync(connection, settings, LocalAddress, cancellation.Token);
            if (hello.Address != peer.Address)
            {
                throw new ProtocolViolationException(CloseReason.HandshakeViolation,
                    $"dialed {peer.Address} but the node there calls itself {hello.Address}");
            }
            var (attached, refusal) = Attach(peer, hello, connection, ConnectionDirection.Outbound);
            if (attached is null)
            {
                throw new ProtocolViolationException(refusal, "the pair already has a connection dialed by the lower address");
            }
            Track(RunAsync(peer, attached, connection));
            return null;
        }
        catch (Exception failure) when (Classify(failure, deadline) is { } reason)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            if (reason == CloseReason.LocalShutdown)
            {
                return reason;
            }
            Context.Metrics.ConnectionClosed(reason);
            if (reason.IsReject())
            {
                logger.Rejected(peer.Address.ToString(), reason, failure.Message);
            }
            return reason;
        }
    }

    /// <summary>Maps an exception from connect/TLS/handshake to a close reason; null for bugs, which must surface.</summary>
    private CloseReason? Classify(Exception failure, CancellationTokenSource? deadline) => failure switch
    {
        ProtocolViolationException violation => violation.Reason,
        OperationCanceledException when lifetime.IsCancellationRequested => CloseReason.LocalShutdown,
        OperationCanceledException when deadline?.IsCancellationRequested == true => CloseReason.HandshakeTimeout,
        AuthenticationException => CloseReason.TlsFailed,
        IOException { InnerException: AuthenticationException } => CloseReason.TlsFailed,
        SocketException => CloseReason.ConnectFailed,
        _ when PeerConnection.IsConnectionLoss(failure) => CloseReason.ConnectionReset,
        _ => null,
    };

    private TimeSpan Backoff(int failures)
    {
        var exponent = Math.Min(failures - 1, 30);
        var ceiling = Math.Min(settings.ReconnectBackoffMax.Ticks, settings.ReconnectBackoffMin.Ticks * (1L << exponent));
        double jitter;
        lock (random)
        {
            jitter = random.NextDouble();
        }
        // Equal jitter: at least half the step, so retries spread out without collapsing to zero.
        return TimeSpan.FromTicks((long)(ceiling * (0.5 + 0.5 * jitter)));
    }

    private long QueueDepth()
    {
        lock (gate)
        {
            return peers.Values.Sum(p => (long)p.Queue.Count);
        }
    }
}
