using System.Security.Cryptography;
using Totoro.Transport.Tcp;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Wire;
using static Totoro.Tests.Transport.Tcp.TcpTestKit;

namespace Totoro.Tests.Transport.Tcp;

[TestFixture]
[NonParallelizable]
public sealed class TcpMessagingTests
{
    [Test]
    public async Task Small_messages_arrive_in_send_order_in_both_directions()
    {
        await using var a = await StartAsync(Settings("node-a"));
        await using var b = await StartAsync(Settings("node-b"));
        const int count = 20_000;

        var aSends = Task.Run(() => SendSequence(a, b.Address, count));
        var bSends = Task.Run(() => SendSequence(b, a.Address, count));
        await Task.WhenAll(aSends, bSends).Within();
        await Task.WhenAll(a.Handler.WaitForAsync(count), b.Handler.WaitForAsync(count));

        Assert.Multiple(() =>
        {
            Assert.That(b.Handler.Received.Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)), Is.EqualTo(Enumerable.Range(0, count)));
            Assert.That(a.Handler.Received.Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)), Is.EqualTo(Enumerable.Range(0, count)));
            Assert.That(b.Handler.Received[0].Envelope, Has.Property(nameof(TransportEnvelope.Recipient)).EqualTo("/user/target")
                .And.Property(nameof(TransportEnvelope.Sender)).EqualTo("/user/source")
                .And.Property(nameof(TransportEnvelope.Manifest)).EqualTo("test.seq"));
            Assert.That(a.Transport.ConnectedPeers(), Has.Count.EqualTo(1));
            Assert.That(b.Transport.GetStats().MessagesReceived, Is.EqualTo(count));
        });
    }

    [Test]
    public async Task Control_lane_is_reported_to_the_receiver()
    {
        await using var a = await StartAsync(Settings("node-a"));
        await using var b = await StartAsync(Settings("node-b"));

        a.Transport.Send(b.Address, Envelope("test.bulk", new byte[] { 1 }), Lane.Bulk);
        await b.Handler.WaitForAsync(1);
        a.Transport.Send(b.Address, Envelope("test.control", new byte[] { 2 }), Lane.Control);
        await b.Handler.WaitForAsync(2);

        Assert.That(b.Handler.Received.Select(e => (e.Envelope.Manifest, e.Lane)),
            Is.EqualTo(new[] { ("test.bulk", Lane.Bulk), ("test.control", Lane.Control) }));
    }

    [Test]
    public async Task Blob_of_40_MB_arrives_intact_while_control_messages_keep_flowing()
    {
        var settings = Settings("node-a") with { BlobWindowBytes = 1024 * 1024 };
        await using var a = await StartAsync(settings);
        await using var b = await StartAsync(Settings("node-b") with { BlobWindowBytes = 1024 * 1024 });
        var blob = new byte[40 * 1024 * 1024];
        new Random(40).NextBytes(blob);
        a.Transport.Send(b.Address, Envelope("test.hello", new byte[] { 0 }));
        await b.Handler.WaitForAsync(1);

        Assert.That(a.Transport.Send(b.Address, Envelope("test.blob", blob)), Is.EqualTo(SendResult.Accepted));
        for (var i = 0; i < 200; i++)
        {
            a.Transport.Send(b.Address, Envelope("test.control", BitConverter.GetBytes(i)), Lane.Control);
        }
        await b.Handler.WaitForAsync(202);

        var received = b.Handler.Received;
        var delivered = received.Single(e => e.Envelope.Manifest == "test.blob");
        Assert.Multiple(() =>
        {
            Assert.That(SHA256.HashData(delivered.Envelope.Payload.Span), Is.EqualTo(SHA256.HashData(blob)));
            Assert.That(received.Where(e => e.Lane == Lane.Control).Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)),
                Is.EqualTo(Enumerable.Range(0, 200)));
            Assert.That(a.Transport.ConnectionTo(b.Address)!.MaxBlobBytesInFlight, Is.GreaterThan(0).And.LessThanOrEqualTo(1024 * 1024));
            Assert.That(b.Transport.GetStats().BlobsReceived, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Sender_never_exceeds_the_receivers_window_and_sends_control_frames_while_stalled()
    {
        const int window = 64 * 1024;
        const int chunk = 16 * 1024;
        await using var node = await StartAsync(Settings("node") with { BlobChunkBytes = chunk, BlobWindowBytes = window });
        await using var raw = await RawPeer.ConnectAsync(node.Address);
        var rawAddress = new NodeAddress("127.0.0.1", 7);
        await raw.HandshakeAsync(Settings("raw") with { BlobChunkBytes = chunk, BlobWindowBytes = window }, rawAddress);
        await node.Handler.Connected.NextAsync();

        var blob = new byte[10 * window];
        new Random(7).NextBytes(blob);
        node.Transport.Send(rawAddress, Envelope("test.blob", blob));

        var reassembled = new MemoryStream();
        long inFlight = 0;
        var controlDuringStall = 0;
        var stalls = 0;
        while (reassembled.Length < blob.Length)
        {
            var frame = await raw.ReadFrameAsync() ?? throw new AssertionException("node closed the connection");
            switch (frame.Type)
            {
                case FrameType.BlobChunk:
                    var data = BlobChunk.Parser.ParseFrom(frame.Payload).Data;
                    reassembled.Write(data.Span);
                    inFlight += data.Length;
                    Assert.That(inFlight, Is.LessThanOrEqualTo(window), "bytes in flight beyond the granted window");
                    if (inFlight == window)
                    {
                        // Window exhausted: the sender must stall, yet control messages still get through.
                        stalls++;
                        node.Transport.Send(rawAddress, Envelope("test.control", BitConverter.GetBytes(stalls)), Lane.Control);
                        var control = await raw.ReadFrameAsync();
                        Assert.That(control?.Type, Is.EqualTo(FrameType.Batch), "the stalled sender wrote something other than the control message");
                        controlDuringStall++;
                        await raw.SendAsync(Frame(FrameType.Credit, Lane.Control, new Credit { Bytes = (ulong)inFlight }));
                        inFlight = 0;
                    }
                    break;
                case FrameType.BlobStart or FrameType.Heartbeat:
                    break;
                default:
                    Assert.Fail($"unexpected {frame.Type} frame");
                    break;
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(reassembled.ToArray(), Is.EqualTo(blob));
            Assert.That(stalls, Is.EqualTo(10));
            Assert.That(controlDuringStall, Is.EqualTo(stalls));
        });
    }

    [Test]
    public async Task Unreachable_peer_gets_bounded_queue_back_pressure_and_retries_with_backoff()
    {
        await using var a = await StartAsync(Settings("node-a") with { SendQueueLength = 8 });
        var nobody = await ReserveUnusedAddressAsync();

        var results = Enumerable.Range(0, 10).Select(i => a.Transport.Send(nobody, Envelope("test.seq", BitConverter.GetBytes(i)))).ToList();
        var first = await a.Handler.Unreachable.NextAsync();
        var second = await a.Handler.Unreachable.NextAsync();

        Assert.Multiple(() =>
        {
            Assert.That(results.Count(r => r == SendResult.Accepted), Is.EqualTo(8));
            Assert.That(results.Skip(8), Is.All.EqualTo(SendResult.QueueFull));
            Assert.That(a.Transport.GetStats().SendsDropped[SendResult.QueueFull], Is.EqualTo(2));
            Assert.That(a.Transport.GetStats().QueueDepth, Is.EqualTo(8));
            Assert.That((first.Failures, first.Reason), Is.EqualTo((1, CloseReason.ConnectFailed)));
            Assert.That(second.Failures, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Reconnects_after_the_peer_restarts_and_flags_the_new_incarnation()
    {
        await using var a = await StartAsync(Settings("node-a"));
        var bSettings = Settings("node-b");
        var b = await StartAsync(bSettings);
        var bAddress = b.Address;
        a.Transport.Send(bAddress, Envelope("test.seq", BitConverter.GetBytes(0)));
        await b.Handler.WaitForAsync(1);
        Assert.That((await a.Handler.Connected.NextAsync()).Restarted, Is.False);

        await b.DisposeAsync();
        var down = await a.Handler.Disconnected.NextAsync();
        Assert.That(down.Peer.Address, Is.EqualTo(bAddress));

        for (var i = 1; i <= 50; i++)
        {
            Assert.That(a.Transport.Send(bAddress, Envelope("test.seq", BitConverter.GetBytes(i))), Is.EqualTo(SendResult.Accepted));
        }
        Assert.That((await a.Handler.Unreachable.NextAsync()).Address, Is.EqualTo(bAddress));

        await using var restarted = await StartAsync(bSettings with { BindPort = bAddress.Port, Incarnation = bSettings.Incarnation + 1 });
        var back = await a.Handler.Connected.NextAsync();
        await restarted.Handler.WaitForAsync(50);

        Assert.Multiple(() =>
        {
            Assert.That(back.Restarted, Is.True);
            Assert.That(back.Incarnation, Is.EqualTo(bSettings.Incarnation + 1));
            Assert.That(restarted.Handler.Received.Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)), Is.EqualTo(Enumerable.Range(1, 50)));
        });
    }

    [Test]
    public async Task Simultaneous_dials_converge_on_one_connection_and_the_lower_address_wins_a_tie([Values(1, 2, 3, 4, 5, 6, 7, 8)] int round)
    {
        await using var a = await StartAsync(Settings("node-a"), seed: round);
        await using var b = await StartAsync(Settings("node-b"), seed: round);
        const int count = 500;

        using var start = new Barrier(2);
        var aSends = Task.Run(() => { start.SignalAndWait(); SendSequence(a, b.Address, count); });
        var bSends = Task.Run(() => { start.SignalAndWait(); SendSequence(b, a.Address, count); });
        await Task.WhenAll(aSends, bSends).Within();
        await Task.WhenAll(a.Handler.WaitForAsync(count), b.Handler.WaitForAsync(count));

        var lower = a.Address < b.Address ? a : b;
        var higher = lower == a ? b : a;
        var lowerSide = lower.Transport.ConnectionTo(higher.Address)?.Direction;
        var higherSide = higher.Transport.ConnectionTo(lower.Address)?.Direction;
        var duplicates = a.Transport.GetStats().ClosedWith(CloseReason.Duplicate) + b.Transport.GetStats().ClosedWith(CloseReason.Duplicate);
        await TestContext.Out.WriteLineAsync($"duplicate dials refused: {duplicates}; lower side: {lowerSide}");
        Assert.Multiple(() =>
        {
            // Both sides serve the pair with the same TCP connection: outbound on one end, inbound on the other.
            Assert.That(lowerSide, Is.Not.Null.And.Not.EqualTo(higherSide));
            Assert.That(higherSide, Is.Not.Null);
            if (duplicates > 0)
            {
                // Both dials got far enough to collide: the lower address's dial must be the survivor.
                Assert.That(lowerSide, Is.EqualTo(ConnectionDirection.Outbound));
            }
            Assert.That(b.Handler.Received.Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)), Is.EqualTo(Enumerable.Range(0, count)));
            Assert.That(a.Handler.Received.Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)), Is.EqualTo(Enumerable.Range(0, count)));
        });
    }

    [Test]
    public async Task Send_refuses_what_it_could_never_deliver()
    {
        await using var a = await StartAsync(Settings("node-a") with { MaxBlobBytes = 1024 * 1024 });
        var peer = new NodeAddress("127.0.0.1", 9);

        Assert.Multiple(() =>
        {
            Assert.That(a.Transport.Send(peer, Envelope("test.big", new byte[1024 * 1024 + 1])), Is.EqualTo(SendResult.TooLarge));
            Assert.That(a.Transport.Send(peer, Envelope("test.big", new byte[300 * 1024]), Lane.Control), Is.EqualTo(SendResult.TooLarge));
            Assert.That(a.Transport.Send(peer, Envelope(new string('m', 5000), new byte[1])), Is.EqualTo(SendResult.TooLarge));
            Assert.That(a.Transport.Send(peer, Envelope("", new byte[1])), Is.EqualTo(SendResult.InvalidEnvelope));
            Assert.That(a.Transport.Send(a.Address, Envelope("test.self", new byte[1])), Is.EqualTo(SendResult.InvalidEnvelope));
        });
        await a.Transport.StopAsync();
        Assert.That(a.Transport.Send(peer, Envelope("test.late", new byte[1])), Is.EqualTo(SendResult.Stopped));
    }

    private static void SendSequence(Node from, NodeAddress to, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var result = from.Transport.Send(to, Envelope("test.seq", BitConverter.GetBytes(i)));
            if (result != SendResult.Accepted)
            {
                throw new AssertionException($"send {i} returned {result}");
            }
        }
    }

    /// <summary>An address nothing listens on: bind a socket to get a free port, then release it.</summary>
    private static async Task<NodeAddress> ReserveUnusedAddressAsync()
    {
        await using var probe = await StartAsync(Settings("probe"));
        return probe.Address;
    }
}
