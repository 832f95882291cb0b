using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Totoro.Transport.Tcp;
using Totoro.Transport.Tcp.Connection;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Handshake;
using Totoro.Transport.Tcp.Wire;
using static Totoro.Tests.Transport.Tcp.TcpTestKit;

namespace Totoro.Tests.Transport.Tcp;

/// <summary>A connection over in-memory pipes, for states a real socket cannot hold still (a peer that never reads).</summary>
[TestFixture]
public sealed class PeerConnectionTests
{
    private const int Chunk = 16 * 1024;
    private const int Window = 32 * 1024;

    [Test]
    public async Task Chunks_beyond_the_granted_window_close_the_connection()
    {
        var settings = Settings("node") with { BlobChunkBytes = Chunk, BlobWindowBytes = Window, MaxFrameBytes = 64 * 1024, MaxBatchBytes = 16 * 1024 };
        var handler = new RecordingHandler();
        using var metrics = new TcpTransportMetrics("test", () => 0, () => 0, () => 0, null);
        var inbound = new Pipe();
        // The peer never reads, so the connection's first flush (a queued control message) never completes and the
        // write loop can grant no credit at all.
        var outbound = new Pipe(new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var queue = new PeerQueue(16, 16);
        queue.TryEnqueue(new OutboundItem(Envelope("test.first", new byte[] { 1 }), 12, 12, 10, false), Lane.Control);
        var remote = new RemoteHello(new NodeAddress("127.0.0.1", 7), "peer", 1, Window);
        var connection = new PeerConnection(new TransportContext(settings, handler, metrics, NullLogger.Instance, TimeProvider.System, new BlobMemory(settings)),
            new DuplexPipe(inbound.Reader, outbound.Writer), queue, remote,
            new PeerInfo(remote.Address, "peer", 1, false, ConnectionDirection.Inbound));
        var running = connection.RunAsync();

        await inbound.Writer.WriteAsync(Frame(FrameType.BlobStart, Lane.Bulk, new BlobStart { BlobId = 1, TotalBytes = 4 * Chunk, Manifest = "test.blob" }));
        for (var i = 0; i < 3; i++)
        {
            await inbound.Writer.WriteAsync(Frame(FrameType.BlobChunk, Lane.Bulk,
                new BlobChunk { BlobId = 1, Offset = (ulong)(i * Chunk), Data = ByteString.CopyFrom(new byte[Chunk]) }));
        }
        var (reason, detail) = await running.Within();

        Assert.Multiple(() =>
        {
            Assert.That(reason, Is.EqualTo(CloseReason.FlowControlViolation), detail);
            Assert.That(metrics.Snapshot(0, 0).ClosedWith(CloseReason.FlowControlViolation), Is.EqualTo(1));
            Assert.That(handler.Received, Is.Empty);
        });
    }

    [Test]
    public async Task Chunks_within_the_window_are_reassembled_and_credited_back()
    {
        var settings = Settings("node") with { BlobChunkBytes = Chunk, BlobWindowBytes = Window, MaxFrameBytes = 64 * 1024, MaxBatchBytes = 16 * 1024 };
        var handler = new RecordingHandler();
        using var metrics = new TcpTransportMetrics("test", () => 0, () => 0, () => 0, null);
        var inbound = new Pipe();
        var outbound = new Pipe();
        var remote = new RemoteHello(new NodeAddress("127.0.0.1", 7), "peer", 1, Window);
        var connection = new PeerConnection(new TransportContext(settings, handler, metrics, NullLogger.Instance, TimeProvider.System, new BlobMemory(settings)),
            new DuplexPipe(inbound.Reader, outbound.Writer), new PeerQueue(16, 16), remote,
            new PeerInfo(remote.Address, "peer", 1, false, ConnectionDirection.Inbound));
        var running = connection.RunAsync();
        var blob = new byte[2 * Chunk];
        new Random(3).NextBytes(blob);

        await inbound.Writer.WriteAsync(Frame(FrameType.BlobStart, Lane.Bulk, new BlobStart { BlobId = 9, TotalBytes = (ulong)blob.Length, Manifest = "test.blob" }));
        for (var i = 0; i < 2; i++)
        {
            await inbound.Writer.WriteAsync(Frame(FrameType.BlobChunk, Lane.Bulk,
                new BlobChunk { BlobId = 9, Offset = (ulong)(i * Chunk), Data = ByteString.CopyFrom(blob, i * Chunk, Chunk) }));
        }
        await handler.WaitForAsync(1);
        ulong credited = 0;
        while (credited < (ulong)blob.Length)
        {
            var read = await outbound.Reader.ReadAsync().AsTask().Within();
            var buffer = read.Buffer;
            while (FrameCodec.TryReadFrame(ref buffer, 1 << 20, out var type, out _, out var payload))
            {
                if (type == FrameType.Credit)
                {
                    credited += Credit.Parser.ParseFrom(payload).Bytes;
                }
            }
            outbound.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
        connection.Close(CloseReason.LocalShutdown);
        var (reason, _) = await running.Within();

        Assert.Multiple(() =>
        {
            Assert.That(handler.Received.Single().Envelope.Payload.ToArray(), Is.EqualTo(blob));
            Assert.That(credited, Is.EqualTo((ulong)blob.Length));
            Assert.That(reason, Is.EqualTo(CloseReason.LocalShutdown));
        });
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
