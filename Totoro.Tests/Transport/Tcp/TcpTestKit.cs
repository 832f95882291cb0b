using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Google.Protobuf;
using Totoro.Transport.Tcp;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Handshake;

namespace Totoro.Tests.Transport.Tcp;

internal static class TcpTestKit
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static ReadOnlyMemory<byte> Secret { get; } = "totoro-test-cluster-secret-000001"u8.ToArray();

    public static TcpTransportSettings Settings(string nodeId) => new()
    {
        NodeId = nodeId,
        Incarnation = Random.Shared.NextInt64(1, long.MaxValue),
        ClusterSecret = Secret,
        ReconnectBackoffMin = TimeSpan.FromMilliseconds(20),
        ReconnectBackoffMax = TimeSpan.FromMilliseconds(200),
    };

    public static async Task<Node> StartAsync(TcpTransportSettings settings, int seed = 1)
    {
        var handler = new RecordingHandler();
        var transport = new TcpTransport(settings, handler, TimeProvider.System, new Random(seed));
        await transport.StartAsync();
        return new Node(transport, handler);
    }

    public static TransportEnvelope Envelope(string manifest, ReadOnlyMemory<byte> payload, string recipient = "/user/target") =>
        new(recipient, "/user/source", manifest, payload);

    public static byte[] Frame(FrameType type, Lane lane, ReadOnlySpan<byte> payload) => Frame((byte)type, (byte)lane, payload, (uint)payload.Length);

    public static byte[] Frame(FrameType type, Lane lane, IMessage message) => Frame(type, lane, message.ToByteArray());

    /// <summary>A frame with any header values, including ones the codec never writes.</summary>
    public static byte[] Frame(byte type, byte lane, ReadOnlySpan<byte> payload, uint declaredLength)
    {
        var frame = new byte[FrameCodec.HeaderBytes + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, declaredLength);
        frame[4] = type;
        frame[5] = lane;
        payload.CopyTo(frame.AsSpan(FrameCodec.HeaderBytes));
        return frame;
    }

    public static async Task<T> Within<T>(this Task<T> task) => await task.WaitAsync(Timeout);

    public static async Task Within(this Task task) => await task.WaitAsync(Timeout);

    public static async Task<T> NextAsync<T>(this Channel<T> channel, Func<T, bool>? match = null)
    {
        while (true)
        {
            var item = await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            if (match is null || match(item))
            {
                return item;
            }
        }
    }
}

internal sealed record Node(TcpTransport Transport, RecordingHandler Handler) : IAsyncDisposable
{
    public NodeAddress Address => Transport.LocalAddress;

    public ValueTask DisposeAsync() => Transport.DisposeAsync();
}

/// <summary>Records everything the transport reports; waits are signals, never sleeps.</summary>
internal sealed class RecordingHandler : ITcpTransportHandler
{
    private readonly Lock gate = new();
    private readonly List<InboundEnvelope> received = [];
    private readonly List<(int Count, TaskCompletionSource Done)> waiters = [];

    public Channel<PeerInfo> Connected { get; } = Channel.CreateUnbounded<PeerInfo>();

    public Channel<(PeerInfo Peer, CloseReason Reason)> Disconnected { get; } = Channel.CreateUnbounded<(PeerInfo, CloseReason)>();

    public Channel<(NodeAddress Address, int Failures, CloseReason Reason)> Unreachable { get; } =
        Channel.CreateUnbounded<(NodeAddress, int, CloseReason)>();

    public Channel<CloseReason> Refused { get; } = Channel.CreateUnbounded<CloseReason>();

    /// <summary>Decides what an inbound envelope is; accepts everything unless a test says otherwise.</summary>
    public Func<InboundEnvelope, InboundResult> Classify { get; set; } = _ => InboundResult.Accepted;

    public IReadOnlyList<InboundEnvelope> Received
    {
        get
        {
            lock (gate)
            {
                return [.. received];
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> envelopes from <paramref name="from"/> arrived.</summary>
    public async Task WaitForAsync(NodeAddress from, int count)
    {
        var total = 0;
        while (true)
        {
            var already = Received.Count(e => e.From == from);
            if (already >= count)
            {
                return;
            }
            // Wait for at least as many more envelopes as are still missing, from anyone, then look again.
            total = Math.Max(total, Received.Count) + (count - already);
            await WaitForAsync(total);
        }
    }

    public Task WaitForAsync(int count)
    {
        lock (gate)
        {
            if (received.Count >= count)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((count, done));
            return done.Task.WaitAsync(TcpTestKit.Timeout);
        }
    }

    public InboundResult OnEnvelope(in InboundEnvelope envelope)
    {
        var result = Classify(envelope);
        if (result != InboundResult.Accepted)
        {
            return result;
        }
        // A blob's pooled segments go back when this call returns; keep a copy in the record.
        var kept = envelope.Blob is { } blob ? envelope with { Envelope = envelope.Envelope with { Payload = blob.Data.ToArray() } } : envelope;
        lock (gate)
        {
            received.Add(kept);
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (received.Count >= waiters[i].Count)
                {
                    waiters[i].Done.TrySetResult();
                    waiters.RemoveAt(i);
                }
            }
        }
        return result;
    }

    public void OnPeerConnected(PeerInfo peer) => Connected.Writer.TryWrite(peer);

    public void OnPeerDisconnected(PeerInfo peer, CloseReason reason) => Disconnected.Writer.TryWrite((peer, reason));

    public void OnInboundRefused(string remote, CloseReason reason) => Refused.Writer.TryWrite(reason);

    public void OnPeerUnreachable(NodeAddress address, int consecutiveFailures, CloseReason reason) =>
        Unreachable.Writer.TryWrite((address, consecutiveFailures, reason));
}

/// <summary>
/// A hand-driven peer on a plain socket: it can run the real handshake (or a forged one) and then write any bytes,
/// so tests see exactly how a node treats a misbehaving peer.
/// </summary>
internal sealed class RawPeer : IDuplexPipe, IAsyncDisposable
{
    private readonly Socket socket;
    private readonly NetworkStream stream;

    private RawPeer(Socket socket)
    {
        this.socket = socket;
        stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public static async Task<RawPeer> ConnectAsync(NodeAddress node)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(node.Host, node.Port).WaitAsync(TcpTestKit.Timeout);
        return new RawPeer(socket);
    }

    /// <summary>Runs the dialer's handshake as <paramref name="settings"/>' node advertising <paramref name="advertised"/>.</summary>
    public async Task<RemoteHello> HandshakeAsync(TcpTransportSettings settings, NodeAddress advertised)
    {
        using var timeout = new CancellationTokenSource(TcpTestKit.Timeout);
        return await HandshakeProtocol.DialAsync(this, settings, advertised, timeout.Token);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        await Output.WriteAsync(bytes);
    }

    /// <summary>Half-closes: the node sees end of stream after what was sent.</summary>
    public void ShutdownSend() => socket.Shutdown(SocketShutdown.Send);

    /// <summary>The next whole frame from the node, or null once the node closed the connection.</summary>
    public async Task<(FrameType Type, Lane Lane, byte[] Payload)?> ReadFrameAsync()
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await Input.ReadAsync().AsTask().WaitAsync(TcpTestKit.Timeout);
            }
            catch (IOException)
            {
                return null;
            }
            var buffer = result.Buffer;
            if (FrameCodec.TryReadFrame(ref buffer, 64 * 1024 * 1024, out var type, out var lane, out var payload))
            {
                var bytes = payload.ToArray();
                Input.AdvanceTo(buffer.Start);
                return (type, lane, bytes);
            }
            Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads (and discards) frames until the node closes the connection; fails the test on timeout.</summary>
    public async Task WaitForCloseAsync()
    {
        while (await ReadFrameAsync() is not null)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync();
        await Output.CompleteAsync();
        await stream.DisposeAsync();
    }
}
