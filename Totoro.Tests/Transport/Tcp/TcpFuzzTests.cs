using Google.Protobuf;
using Totoro.Transport.Tcp;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Wire;
using static Totoro.Tests.Transport.Tcp.TcpTestKit;

namespace Totoro.Tests.Transport.Tcp;

/// <summary>
/// Throws seeded random and mutated frames at a live node over many connections. Every hostile connection must end
/// with exactly one counted reject, frames that are still valid must be served, and a well-behaved peer's traffic
/// must keep flowing throughout.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class TcpFuzzTests
{
    private const int Seed = 20261121;
    private const int FrameBudget = 10_000;

    private static TcpTransportSettings Limited(string nodeId) => Settings(nodeId) with
    {
        MaxFrameBytes = 64 * 1024,
        BlobChunkBytes = 16 * 1024,
        BlobWindowBytes = 32 * 1024,
        MaxBlobBytes = 256 * 1024,
        MaxBatchBytes = 16 * 1024,
    };

    [Test]
    public async Task Node_survives_ten_thousand_hostile_frames_and_keeps_serving_a_good_peer()
    {
        await TestContext.Out.WriteLineAsync($"fuzz seed {Seed}");
        var random = new Random(Seed);
        await using var node = await StartAsync(Limited("node"));
        node.Handler.Classify = e => e.Envelope.Manifest is "good.seq" or "fuzz.ok" ? InboundResult.Accepted : InboundResult.UnknownManifest;
        await using var good = await StartAsync(Limited("good"));
        var fuzzer = Limited("fuzzer");
        var forger = Limited("forger") with { ClusterSecret = new byte[32] };

        var frames = 0;
        var connections = 0;
        var goodSent = 0;
        var servedValidFrames = 0;
        var definite = new Dictionary<CloseReason, int>();
        while (frames < FrameBudget)
        {
            connections++;
            for (var i = 0; i < 5; i++)
            {
                Assert.That(good.Transport.Send(node.Address, Envelope("good.seq", BitConverter.GetBytes(goodSent++))), Is.EqualTo(SendResult.Accepted));
            }
            await using var raw = await RawPeer.ConnectAsync(node.Address);
            switch (random.Next(10))
            {
                case < 3:
                    frames++;
                    await raw.SendAsync(Garbage(random));
                    raw.ShutdownSend();
                    await raw.WaitForCloseAsync();
                    break;
                case 3:
                    frames += 2;
                    var refused = await Assert.ThrowsAsync<ProtocolViolationException>(() => raw.HandshakeAsync(forger, new NodeAddress("127.0.0.1", 1)));
                    Assert.That(refused!.Reason, Is.EqualTo(CloseReason.AuthenticationFailed), $"seed {Seed}, connection {connections}");
                    Count(definite, CloseReason.AuthenticationFailed);
                    // The forger knows first (the node's proof fails its check); wait until the node has closed too.
                    await raw.WaitForCloseAsync();
                    break;
                default:
                    frames += 2;
                    await raw.HandshakeAsync(fuzzer, new NodeAddress("127.0.0.1", 20_000 + connections));
                    var (sent, served, offence) = await MisbehaveAsync(raw, random);
                    frames += sent;
                    servedValidFrames += served;
                    if (offence is { } reason)
                    {
                        Count(definite, reason);
                    }
                    break;
            }
        }

        await node.Handler.WaitForAsync(good.Address, goodSent);
        var stats = node.Transport.GetStats();
        await TestContext.Out.WriteLineAsync($"{frames} frames over {connections} connections; {servedValidFrames} valid frames served; rejects: "
            + string.Join(", ", stats.Closes.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Multiple(() =>
        {
            Assert.That(frames, Is.GreaterThanOrEqualTo(FrameBudget));
            Assert.That(stats.Rejects, Is.EqualTo(connections),
                $"every hostile connection ends in exactly one counted reject (seed {Seed}); closes: {string.Join(", ", stats.Closes)}");
            foreach (var (reason, count) in definite)
            {
                Assert.That(stats.ClosedWith(reason), Is.GreaterThanOrEqualTo(count), $"{reason} (seed {Seed})");
            }
            Assert.That(servedValidFrames, Is.GreaterThan(0));
            Assert.That(node.Handler.Received.Where(e => e.From == good.Address).Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)),
                Is.EqualTo(Enumerable.Range(0, goodSent)));
            Assert.That(good.Handler.Disconnected.Reader.TryRead(out _), Is.False, "the good peer was never disconnected");
            Assert.That(node.Transport.ConnectionTo(good.Address), Is.Not.Null);
        });
    }

    /// <summary>
    /// Valid and bit-flipped frames, each followed by a ping: a pong means the node served the frame, a close means it
    /// rejected it. Ends with a frame that is certainly invalid unless the node already closed the connection.
    /// </summary>
    private static async Task<(int Sent, int Served, CloseReason? Offence)> MisbehaveAsync(RawPeer raw, Random random)
    {
        var sent = 0;
        var served = 0;
        var rounds = random.Next(1, 40);
        for (var round = 0; round < rounds; round++)
        {
            var valid = random.Next(2) == 0;
            var frame = valid ? ValidFrame(random) : MutationSource(random);
            if (!valid)
            {
                // Flip bits after the length field, so the node parses exactly this frame and the ping that follows.
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                {
                    var at = random.Next(4, frame.Length);
                    frame[at] ^= (byte)(1 << random.Next(8));
                }
            }
            await raw.SendAsync(frame);
            sent++;
            var alive = await PingAsync(raw, (ulong)round + 1);
            if (valid)
            {
                Assert.That(alive, Is.True, $"seed {Seed}: the node closed a connection after a valid frame");
                served++;
            }
            if (!alive)
            {
                return (sent, served, null);
            }
        }
        var (offence, reason) = random.Next(4) switch
        {
            0 => (Frame((byte)FrameType.Batch, 1, [], (uint)random.Next(64 * 1024 + 1, int.MaxValue)), CloseReason.FrameTooLarge),
            1 => (Frame((byte)random.Next(7, 256), 1, [0], 1), CloseReason.UnknownFrameType),
            2 => (Frame((byte)FrameType.Batch, (byte)random.Next(2, 256), [0], 1), CloseReason.BadLane),
            _ => (TcpLimitsTests.Batch("fuzz.unknown"), CloseReason.UnknownManifest),
        };
        await raw.SendAsync(offence);
        await raw.WaitForCloseAsync();
        return (sent + 1, served, reason);
    }

    private static async Task<bool> PingAsync(RawPeer raw, ulong sequence)
    {
        await raw.SendAsync(Frame(FrameType.Heartbeat, Lane.Control, new Heartbeat { Sequence = sequence }));
        while (await raw.ReadFrameAsync() is { } frame)
        {
            if (frame.Type == FrameType.Heartbeat && Heartbeat.Parser.ParseFrom(frame.Payload) is { Reply: true } pong && pong.Sequence == sequence)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Frames that are valid in any state of the connection.</summary>
    private static byte[] ValidFrame(Random random) => random.Next(3) switch
    {
        0 => Frame(FrameType.Heartbeat, Lane.Control, new Heartbeat { Sequence = (ulong)random.Next() }),
        _ => Frame(FrameType.Batch, (Lane)random.Next(2), new EnvelopeBatch
        {
            Envelopes =
            {
                Enumerable.Range(0, random.Next(1, 5)).Select(_ => new Envelope
                {
                    Recipient = "/user/fuzz",
                    Sender = "/user/fuzzer",
                    Manifest = "fuzz.ok",
                    Payload = ByteString.CopyFrom(RandomBytes(random, random.Next(0, 200))),
                }),
            },
        }),
    };

    /// <summary>Frames to flip bits in: the valid ones plus blob and credit frames whose validity depends on state.</summary>
    private static byte[] MutationSource(Random random) => random.Next(5) switch
    {
        0 => Frame(FrameType.BlobStart, Lane.Bulk, new BlobStart { BlobId = 1, TotalBytes = (ulong)random.Next(1, 300_000), Manifest = "fuzz.ok" }),
        1 => Frame(FrameType.BlobChunk, Lane.Bulk, new BlobChunk { BlobId = 1, Data = ByteString.CopyFrom(RandomBytes(random, 100)) }),
        2 => Frame(FrameType.Credit, Lane.Control, new Credit { Bytes = (ulong)random.Next(1, 100) }),
        _ => ValidFrame(random),
    };

    /// <summary>Bytes before any handshake: pure noise, or a plausible header with a random type and a short body.</summary>
    private static byte[] Garbage(Random random)
    {
        if (random.Next(2) == 0)
        {
            return RandomBytes(random, random.Next(1, 64));
        }
        var body = RandomBytes(random, random.Next(0, 40));
        return Frame((byte)random.Next(256), (byte)random.Next(3), body, (uint)random.Next(0, 80));
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static void Count(Dictionary<CloseReason, int> counts, CloseReason reason) =>
        counts[reason] = counts.GetValueOrDefault(reason) + 1;
}
