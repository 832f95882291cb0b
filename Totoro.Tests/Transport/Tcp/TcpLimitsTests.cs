using System.Text;
using Google.Protobuf;
using Totoro.Transport.Tcp;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Wire;
using static Totoro.Tests.Transport.Tcp.TcpTestKit;

namespace Totoro.Tests.Transport.Tcp;

[TestFixture]
[NonParallelizable]
public sealed class TcpLimitsTests
{
    private const int MaxFrame = 64 * 1024;
    private const int Chunk = 16 * 1024;
    private const int Window = 32 * 1024;

    private static TcpTransportSettings Limited(string nodeId) => Settings(nodeId) with
    {
        MaxFrameBytes = MaxFrame,
        BlobChunkBytes = Chunk,
        BlobWindowBytes = Window,
        MaxBlobBytes = 1024 * 1024,
        MaxBatchBytes = 16 * 1024,
    };

    internal static byte[] Batch(string manifest, string recipient = "/user/x") => Frame(FrameType.Batch, Lane.Bulk, new EnvelopeBatch
    {
        Envelopes = { new Envelope { Recipient = recipient, Sender = "/user/y", Manifest = manifest, Payload = ByteString.CopyFrom(1, 2, 3) } },
    });

    private static IEnumerable<TestCaseData> Offences()
    {
        yield return new TestCaseData(new[] { Frame((byte)FrameType.Batch, 1, [], MaxFrame + 1) }, CloseReason.FrameTooLarge).SetName("Length_above_max_frame_bytes");
        yield return new TestCaseData(new[] { Frame(99, 1, [1, 2, 3], 3) }, CloseReason.UnknownFrameType).SetName("Unknown_frame_type");
        yield return new TestCaseData(new[] { Frame((byte)FrameType.Batch, 7, [1], 1) }, CloseReason.BadLane).SetName("Unknown_lane");
        yield return new TestCaseData(new[] { Frame(FrameType.Batch, Lane.Bulk, [0xFF, 0xFF, 0xFF, 0xFF]) }, CloseReason.MalformedFrame).SetName("Malformed_protobuf");
        yield return new TestCaseData(new[] { Frame(FrameType.Batch, Lane.Bulk, ReadOnlySpan<byte>.Empty) }, CloseReason.MalformedFrame).SetName("Empty_batch");
        yield return new TestCaseData(new[] { Batch("") }, CloseReason.MalformedFrame).SetName("Envelope_without_manifest");
        yield return new TestCaseData(new[] { Batch("nobody.knows.this") }, CloseReason.UnknownManifest).SetName("Unknown_manifest");
        yield return new TestCaseData(new[] { Batch("test.ok", new string('r', 5000)) }, CloseReason.HeaderTooLarge).SetName("Envelope_header_too_large");
        yield return new TestCaseData(new[] { Frame(FrameType.Handshake, Lane.Control, new Handshake { Proof = new Proof() }) }, CloseReason.HandshakeViolation).SetName("Handshake_after_handshake");
        yield return new TestCaseData(new[] { Frame(FrameType.BlobStart, Lane.Bulk, new BlobStart { BlobId = 1, TotalBytes = 2 * 1024 * 1024, Manifest = "test.ok" }) }, CloseReason.BlobTooLarge).SetName("Blob_above_max_blob_bytes");
        yield return new TestCaseData(new[] { Frame(FrameType.BlobChunk, Lane.Bulk, new BlobChunk { BlobId = 1, Data = ByteString.CopyFrom(1) }) }, CloseReason.BlobViolation).SetName("Chunk_without_blob_start");
        yield return new TestCaseData(new[] { Frame(FrameType.Credit, Lane.Control, new Credit { Bytes = 1 }) }, CloseReason.FlowControlViolation).SetName("Credit_for_nothing_in_flight");
        var start = Frame(FrameType.BlobStart, Lane.Bulk, new BlobStart { BlobId = 1, TotalBytes = 4 * Chunk, Manifest = "test.ok" });
        var wrongOffset = Frame(FrameType.BlobChunk, Lane.Bulk, new BlobChunk { BlobId = 1, Offset = 5, Data = ByteString.CopyFrom(1) });
        yield return new TestCaseData(new[] { start, wrongOffset }, CloseReason.BlobViolation).SetName("Chunk_out_of_order");
    }

    [TestCaseSource(nameof(Offences))]
    public async Task Offending_peer_is_disconnected_with_a_counted_reason(byte[][] frames, CloseReason expected)
    {
        await using var node = await StartAsync(Limited("node"));
        node.Handler.Classify = e => e.Envelope.Manifest.StartsWith("test.", StringComparison.Ordinal) ? InboundResult.Accepted : InboundResult.UnknownManifest;
        await using var raw = await RawPeer.ConnectAsync(node.Address);
        await raw.HandshakeAsync(Limited("raw"), new NodeAddress("127.0.0.1", 7));

        foreach (var frame in frames)
        {
            await raw.SendAsync(frame);
        }
        await raw.WaitForCloseAsync();
        var (peer, reason) = await node.Handler.Disconnected.NextAsync();

        Assert.Multiple(() =>
        {
            Assert.That(reason, Is.EqualTo(expected));
            Assert.That(peer.Address, Is.EqualTo(new NodeAddress("127.0.0.1", 7)));
            Assert.That(node.Transport.GetStats().ClosedWith(expected), Is.EqualTo(1));
            Assert.That(node.Transport.GetStats().Rejects, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Frame_cut_short_by_end_of_stream_is_counted_as_truncated()
    {
        await using var node = await StartAsync(Limited("node"));
        await using var raw = await RawPeer.ConnectAsync(node.Address);
        await raw.HandshakeAsync(Limited("raw"), new NodeAddress("127.0.0.1", 7));

        await raw.SendAsync(Batch("test.ok").AsMemory(0, 12));
        raw.ShutdownSend();
        await raw.WaitForCloseAsync();

        Assert.That((await node.Handler.Disconnected.NextAsync()).Reason, Is.EqualTo(CloseReason.TruncatedFrame));
    }

    [Test]
    public async Task Silent_connections_are_closed_by_the_handshake_and_idle_timeouts()
    {
        await using var node = await StartAsync(Limited("node") with
        {
            HandshakeTimeout = TimeSpan.FromMilliseconds(300),
            IdleTimeout = TimeSpan.FromMilliseconds(400),
        });
        await using (var mute = await RawPeer.ConnectAsync(node.Address))
        {
            await mute.WaitForCloseAsync();
            Assert.That(await node.Handler.Refused.NextAsync(), Is.EqualTo(CloseReason.HandshakeTimeout));
        }

        await using var idle = await RawPeer.ConnectAsync(node.Address);
        await idle.HandshakeAsync(Limited("raw"), new NodeAddress("127.0.0.1", 7));
        await idle.WaitForCloseAsync();
        Assert.That((await node.Handler.Disconnected.NextAsync()).Reason, Is.EqualTo(CloseReason.IdleTimeout));
    }

    [Test]
    public async Task Pings_are_answered_so_a_live_peer_is_never_idle()
    {
        await using var node = await StartAsync(Limited("node"));
        await using var raw = await RawPeer.ConnectAsync(node.Address);
        await raw.HandshakeAsync(Limited("raw"), new NodeAddress("127.0.0.1", 7));

        await raw.SendAsync(Frame(FrameType.Heartbeat, Lane.Control, new Heartbeat { Sequence = 42 }));
        Heartbeat? reply = null;
        while (reply is null)
        {
            var frame = await raw.ReadFrameAsync() ?? throw new AssertionException("node closed the connection");
            if (frame.Type == FrameType.Heartbeat && Heartbeat.Parser.ParseFrom(frame.Payload) is { Reply: true } pong)
            {
                reply = pong;
            }
        }
        Assert.That(reply.Sequence, Is.EqualTo(42));
    }

    [Test]
    public void Settings_validation_names_the_offending_key()
    {
        var valid = Settings("node");
        Assert.Multiple(() =>
        {
            Assert.That(() => (valid with { BlobChunkBytes = 2 * 1024 * 1024 }).Validate(),
                Throws.TypeOf<TcpTransportSettingsException>().With.Property(nameof(TcpTransportSettingsException.KeyPath)).EqualTo("totoro.transport.tcp.blob-chunk-bytes"));
            Assert.That(() => (valid with { BlobWindowBytes = 1024 }).Validate(),
                Throws.TypeOf<TcpTransportSettingsException>().With.Property(nameof(TcpTransportSettingsException.KeyPath)).EqualTo("totoro.transport.tcp.blob-window-bytes"));
            Assert.That(() => (valid with { ClusterSecret = Encoding.ASCII.GetBytes("short") }).Validate(),
                Throws.TypeOf<TcpTransportSettingsException>().With.Property(nameof(TcpTransportSettingsException.KeyPath)).EqualTo("totoro.transport.tcp.cluster-secret"));
            Assert.That(() => (valid with { ReconnectBackoffMax = TimeSpan.FromMilliseconds(1) }).Validate(),
                Throws.TypeOf<TcpTransportSettingsException>().With.Property(nameof(TcpTransportSettingsException.KeyPath)).EqualTo("totoro.transport.tcp.reconnect-backoff-max"));
            Assert.That(() => (valid with { Tls = new TcpTlsSettings { CertificatePath = "node.pfx" } }).Validate(),
                Throws.TypeOf<TcpTransportSettingsException>().With.Property(nameof(TcpTransportSettingsException.KeyPath)).EqualTo("totoro.transport.tcp.tls.ca-path"));
            Assert.That(() => (valid with { MaxBlobMemoryPerConnection = valid.MaxBlobBytes - 1 }).Validate(),
                Throws.TypeOf<TcpTransportSettingsException>().With.Property(nameof(TcpTransportSettingsException.KeyPath)).EqualTo("totoro.transport.tcp.max-blob-memory-per-connection"));
            Assert.That(() => (valid with { MaxBlobMemory = valid.MaxBlobMemoryPerConnection - 1 }).Validate(),
                Throws.TypeOf<TcpTransportSettingsException>().With.Property(nameof(TcpTransportSettingsException.KeyPath)).EqualTo("totoro.transport.tcp.max-blob-memory"));
            Assert.That(valid.Validate(), Is.SameAs(valid));
        });
    }
}
