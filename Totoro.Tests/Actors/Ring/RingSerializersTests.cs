using System.Collections.Immutable;
using Google.Protobuf.WellKnownTypes;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Ring;

/// <summary>An application payload routed by the ring tests.</summary>
internal sealed record RingTestLookup(int Id);

internal static class RingTestSerializers
{
    public static SerializerRegistry Registry { get; } = Create();

    private static SerializerRegistry Create()
    {
        var registry = SerializerRegistry.CreateWithKernelMessages();
        RingSerializers.Register(registry);
        registry.Register<RingTestLookup, Int32Value>("test.ring-lookup.v1", lookup => new Int32Value { Value = lookup.Id }, wire => new RingTestLookup(wire.Value));
        return registry;
    }
}

[TestFixture]
internal sealed class RingSerializersTests
{
    private static readonly NodeHandle A = new(NodeId.FromName("a"), new NodeAddress(1));
    private static readonly NodeHandle B = new(NodeId.FromName("b"), new NodeAddress(2));
    private static readonly NodeHandle C = new(NodeId.FromName("c"), new NodeAddress(int.MaxValue));

    /// <summary>Every ring message type, with every optional part filled in at least once.</summary>
    private static IEnumerable<RingMessage> Messages()
    {
        var key = NodeId.Parse("ffffffffffffffff0000000000000001");
        yield return new RouteMessage(A, key, new RingTestLookup(7), 3);
        yield return new RouteMessage(A, key, new RingTestLookup(8), 2) { Converging = true };
        yield return new RouteMessage(A, key, new JoinPayload(B, 2), 1);
        yield return new RouteMessage(A, key, new LeafSetProbe(C), 4);
        yield return new RouteMessage(A, key, new CrossZonePayload(key, RingId.Zone(3), new RingTestLookup(9), [2, 1]), 5);
        yield return new RouteMessage(A, key, new CrossZonePayload(key, RingId.Global, new JoinPayload(C, 0), []), 1);
        yield return new JoinReply(A, 1, 2, [B, C], [C], [A, B], 4);
        yield return new JoinReply(A, 0, 0, [], [], [], null);
        yield return new Announce(A, TimeSpan.FromMilliseconds(1234.5));
        yield return new AnnounceReply(B, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), [A, C]);
        yield return new Probe(C, TimeSpan.FromTicks(42));
        yield return new ProbeReply(A, TimeSpan.FromTicks(43));
        yield return new LeafSetRequest(B);
        yield return new LeafSetReply(B, [A, C]);
        yield return new RowEntryRequest(A, 3, 15);
        yield return new RowEntryReply(A, [B]);
        yield return new RowRequest(B, 2);
        yield return new RowReply(C, 1, [A, B]);
        yield return new RowReply(C, 0, []);
        yield return new LeaveNotice(C, [A, B]);
        yield return HeartbeatTick.Instance;
        yield return LeafSetExchangeTick.Instance;
        yield return JoinRetryTick.Instance;
        yield return TableMaintenanceTick.Instance;
        yield return new DeliveryFailed(new NodeAddress(5), new RouteMessage(B, key, new RingTestLookup(1), 2));
        yield return new DeliveryFailed(new NodeAddress(6), new RouteMessage(B, key, new RingTestLookup(2), 3) { Converging = true });
    }

    [TestCaseSource(nameof(Messages))]
    public void Every_ring_message_round_trips_bare_and_inside_an_envelope(RingMessage message)
    {
        var registry = RingTestSerializers.Registry;
        var bare = RoundTrip(registry, message);
        Assert.That(bare.GetType(), Is.EqualTo(message.GetType()));
        Assert.That(Describe(bare), Is.EqualTo(Describe(message)));

        foreach (var ring in new[] { RingId.Zone(0), RingId.Zone(11), RingId.Global })
        {
            var envelope = (RingEnvelope)RoundTrip(registry, new RingEnvelope(ring, message));
            Assert.That(envelope.Ring, Is.EqualTo(ring));
            Assert.That(Describe(envelope.Message), Is.EqualTo(Describe(message)));
        }
    }

    [Test]
    public void Hop_acknowledgements_round_trip()
    {
        var hop = new AckedHop(long.MaxValue, new RingEnvelope(RingId.Zone(2), new RouteMessage(A, B.Id, new RingTestLookup(3), 2)));
        var back = (AckedHop)RoundTrip(RingTestSerializers.Registry, hop);
        Assert.That(back.Seq, Is.EqualTo(hop.Seq));
        Assert.That(back.Envelope.Ring, Is.EqualTo(hop.Envelope.Ring));
        Assert.That(Describe(back.Envelope.Message), Is.EqualTo(Describe(hop.Envelope.Message)));
        Assert.That(RoundTrip(RingTestSerializers.Registry, new HopAck(-5)), Is.EqualTo(new HopAck(-5)));
    }

    [Test]
    public void Ring_manifests_are_stable_names()
    {
        var (manifest, _) = RingTestSerializers.Registry.Serialize(new RingEnvelope(RingId.Zone(0), new LeafSetRequest(A)));
        var (join, _) = RingTestSerializers.Registry.Serialize(new JoinPayload(A, 1));
        Assert.That(manifest, Is.EqualTo("ring.envelope.v1"));
        Assert.That(join, Is.EqualTo("ring.join-payload.v1"));
    }

    [Test]
    public void A_routed_payload_without_a_serializer_cannot_cross_a_node()
    {
        var message = new RouteMessage(A, B.Id, new object(), 1);
        Assert.That(() => RingTestSerializers.Registry.Serialize(message), Throws.TypeOf<MessageSerializationException>());
    }

    private static object RoundTrip(SerializerRegistry registry, object message)
    {
        var (manifest, bytes) = registry.Serialize(message);
        return registry.Deserialize(manifest, bytes, new NoRefs());
    }

    /// <summary>Records compare immutable arrays by reference; this spells every element out instead.</summary>
    private static string Describe(object? value) => value switch
    {
        null => "null",
        RouteMessage route => $"Route({route.Sender}, {route.Key}, {Describe(route.Payload)}, {route.Hops})",
        CrossZonePayload crossing => $"Cross({crossing.Key}, {crossing.Target}, {Describe(crossing.Payload)}, [{string.Join(",", crossing.SegmentHops)}])",
        JoinReply reply => $"JoinReply({reply.Sender}, {reply.Attempt}, {reply.HopIndex}, {List(reply.Rows)}, {List(reply.Neighborhood)}, {List(reply.LeafSet)}, {reply.PathLength})",
        AnnounceReply reply => $"AnnounceReply({reply.Sender}, {reply.EchoSentAt.Ticks}, {reply.SentAt.Ticks}, {List(reply.LeafSet)})",
        LeafSetReply reply => $"LeafSetReply({reply.Sender}, {List(reply.LeafSet)})",
        RowEntryReply reply => $"RowEntryReply({reply.Sender}, {List(reply.Candidates)})",
        LeaveNotice notice => $"Leave({notice.Sender}, {List(notice.LeafSet)})",
        DeliveryFailed failed => $"DeliveryFailed({failed.To}, {Describe(failed.Message)})",
        NodeHandle handle => $"{handle.Id}{handle.Address}",
        _ => value.ToString() ?? "",
    };

    private static string List(IEnumerable<NodeHandle> handles) => "[" + string.Join(",", handles.Select(h => Describe(h))) + "]";

    private sealed class NoRefs : IActorRefResolver
    {
        public IActorRef Resolve(string path) => throw new InvalidOperationException("ring messages carry no refs");
    }
}
