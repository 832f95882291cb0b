using System.Collections.Immutable;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Totoro.Actors.Forest;
using Totoro.Actors.Forest.Wire;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Tests.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>The registry of the forest tests: kernel, ring and forest manifests, and the test payloads (string bodies, double-vector partials).</summary>
internal static class ForestTestSerializers
{
    public static SerializerRegistry Registry { get; } = Create();

    private static SerializerRegistry Create()
    {
        var registry = SerializerRegistry.CreateWithKernelMessages();
        RingSerializers.Register(registry);
        ForestSerializers.Register(registry);
        registry.Register<RingTestLookup, Int32Value>("test.ring-lookup.v1", lookup => new Int32Value { Value = lookup.Id }, wire => new RingTestLookup(wire.Value));
        registry.Register<string, StringValue>("test.forest-body.v1", body => new StringValue { Value = body }, wire => wire.Value);
        registry.Register<double[], ListValue>(
            "test.forest-vector.v1",
            vector => new ListValue { Values = { vector.Select(Value.ForNumber) } },
            wire => [.. wire.Values.Select(value => value.NumberValue)]);
        return registry;
    }
}

[TestFixture]
internal sealed class ForestSerializersTests
{
    private static readonly TopicId Topic = TopicId.For("serializers");
    private static readonly NodeHandle A = new(NodeId.FromName("a"), new NodeAddress(1));
    private static readonly NodeHandle B = new(NodeId.FromName("b"), new NodeAddress(int.MinValue));
    private static readonly System.Collections.Immutable.ImmutableArray<NodeId> Sorted = [.. new[] { A.Id, B.Id }.Order()];

    /// <summary>Every message type forest actors send each other, with every optional part filled in at least once.</summary>
    private static IEnumerable<ForestEnvelope> Envelopes()
    {
        var request = new SubscribeRequest(Topic, 2, 3, A, 3, 17);
        yield return new ForestEnvelope(new SubscribeAccepted(Topic, B, 2, [A.Id, B.Id]), default);
        yield return new ForestEnvelope(new SubscribeAccepted(Topic, B, 0, []), default);
        yield return new ForestEnvelope(new PushDown(Topic, request), default);
        yield return new ForestEnvelope(new Bypass(Topic, A, new ChildInfo(B, 3, 12)), default);
        yield return new ForestEnvelope(new Unsubscribe(Topic, A), default);
        yield return new ForestEnvelope(new TreeHeartbeat(Topic, B, [B.Id]), default);
        yield return new ForestEnvelope(new Multicast(Topic, 9, new MulticastContent("model", null), null), default);
        yield return new ForestEnvelope(
            new Multicast(Topic, long.MaxValue, new MulticastContent("model", new BlobRef("k/9", 5)), new FoldRequest(4, "vector-sum", TimeSpan.FromSeconds(30))),
            new byte[] { 1, 2, 3, 4, 5 });
        yield return new ForestEnvelope(new FoldPartial(Topic, 4, "vector-sum", A, new[] { 1.5, -2.25 }, Sorted, 3), default);
        yield return new ForestEnvelope(new DestroyTopic(Topic), default);
    }

    [TestCaseSource(nameof(Envelopes))]
    public void Every_forest_message_round_trips_inside_an_envelope(ForestEnvelope envelope)
    {
        var registry = ForestTestSerializers.Registry;
        var (manifest, bytes) = registry.Serialize(envelope);
        var back = (ForestEnvelope)registry.Deserialize(manifest, bytes, NoActorRefs.Instance);

        Assert.That(manifest, Is.EqualTo(ForestSerializers.EnvelopeManifest));
        Assert.That(back.Blob.ToArray(), Is.EqualTo(envelope.Blob.ToArray()));
        Assert.That(Describe(back.Message), Is.EqualTo(Describe(envelope.Message)));
    }

    [Test]
    public void Subscribe_and_create_requests_round_trip_inside_a_ring_route()
    {
        var registry = ForestTestSerializers.Registry;
        foreach (object payload in new object[] { new SubscribeRequest(Topic, 0, 1, B, 1, 1), new CreateTopicRequest(Topic, 3) })
        {
            var route = new RingEnvelope(RingId.Zone(1), new RouteMessage(A, Topic.Key, payload, 2));
            var (manifest, bytes) = registry.Serialize(route);
            var back = (RingEnvelope)registry.Deserialize(manifest, bytes, NoActorRefs.Instance);
            Assert.That(((RouteMessage)back.Message).Payload, Is.EqualTo(payload));
        }
    }

    [Test]
    public void Timers_and_routed_requests_inside_an_envelope_are_refused()
    {
        ForestMessage[] local = [new FoldDeadline(Topic, 7), ForestTick.Instance, new SubscribeRequest(Topic, 0, 0, A, 0, 1), new CreateTopicRequest(Topic, 0)];
        foreach (var message in local)
        {
            var (manifest, bytes) = ForestTestSerializers.Registry.Serialize(new ForestEnvelope(message, default));
            Assert.That(
                () => ForestTestSerializers.Registry.Deserialize(manifest, bytes, NoActorRefs.Instance),
                Throws.InstanceOf<MessageSerializationException>().With.Message.Contains("does not travel between forest actors"),
                message.GetType().Name);
        }
    }

    [Test]
    public void A_blob_that_does_not_match_its_reference_is_refused_by_name()
    {
        var envelope = new ForestEnvelope(new Multicast(Topic, 1, new MulticastContent("model", new BlobRef("k/1", 4)), null), new byte[] { 1, 2, 3, 4 });
        var wire = ForestEnvelopeWire.Parser.ParseFrom(ForestTestSerializers.Registry.Serialize(envelope).Bytes);
        wire.Blob = ByteString.CopyFrom(1, 2, 3);

        Assert.That(() => Deserialize(wire), Throws.InstanceOf<MessageSerializationException>().With.Message.Contains("blob bytes"));
    }

    [TestCase("topic")]
    [TestCase("subtree")]
    [TestCase("contributors")]
    [TestCase("kind")]
    [TestCase("message")]
    [TestCase("zone")]
    [TestCase("child subtree size")]
    [TestCase("child zone")]
    public void Malformed_wire_messages_are_refused_with_a_typed_error_naming_the_field(string defect)
    {
        var partial = new FoldPartial(Topic, 4, "vector-sum", A, new[] { 1.0 }, Sorted, 3);
        var wire = ForestEnvelopeWire.Parser.ParseFrom(ForestTestSerializers.Registry.Serialize(new ForestEnvelope(partial, default)).Bytes);
        var expected = defect;
        switch (defect)
        {
            case "topic":
                wire.Message.Partial.Topic = null;
                break;
            case "subtree":
                wire.Message.Partial.SubtreeSize = -1;
                break;
            case "contributors":
                wire.Message.Partial.Contributors.Add(wire.Message.Partial.Contributors[0]);
                break;
            case "kind":
                wire.Message.Partial.Kind = "";
                break;
            case "message":
                wire.Message = null;
                break;
            case "zone":
                wire.Message = new ForestMessageWire { CreateTopic = new CreateTopicWire { Topic = wire.Message.Partial.Topic, HomeZone = -4 } };
                break;
            case "child subtree size":
            case "child zone":
                var bypass = ForestEnvelopeWire.Parser.ParseFrom(
                    ForestTestSerializers.Registry.Serialize(new ForestEnvelope(new Bypass(Topic, A, new ChildInfo(B, 1, 4)), default)).Bytes).Message;
                if (defect == "child zone")
                {
                    bypass.Bypass.ChildZone = -1;
                }
                else
                {
                    bypass.Bypass.ChildSubtreeSize = -3;
                }

                wire.Message = bypass;
                break;
        }

        Assert.That(() => Deserialize(wire), Throws.InstanceOf<MessageSerializationException>().With.Message.Contains(expected));
    }

    [Test]
    public void Garbage_bytes_are_refused_not_misread()
    {
        Assert.That(
            () => ForestTestSerializers.Registry.Deserialize(ForestSerializers.EnvelopeManifest, new byte[] { 0x0a, 0x05, 0xff, 0xff }, NoActorRefs.Instance),
            Throws.InstanceOf<Exception>());
    }

    private static object Deserialize(ForestEnvelopeWire wire) =>
        ForestTestSerializers.Registry.Deserialize(ForestSerializers.EnvelopeManifest, wire.ToByteArray(), NoActorRefs.Instance);

    /// <summary>Records hold arrays and boxed values; compare them by a structural description.</summary>
    private static string Describe(ForestMessage message) => message switch
    {
        SubscribeAccepted accepted => $"accepted {accepted.Topic} {accepted.Parent} {accepted.ParentZone} [{string.Join(",", accepted.Path)}]",
        TreeHeartbeat heartbeat => $"heartbeat {heartbeat.Topic} {heartbeat.Parent} [{string.Join(",", heartbeat.Path)}]",
        Multicast multicast => $"multicast {multicast.Topic} {multicast.MessageId} {multicast.Content.Body} {multicast.Content.Blob} {multicast.Fold}",
        FoldPartial partial => $"partial {partial.Topic} {partial.Round} {partial.Kind} {partial.Child} [{string.Join(",", (double[])partial.Value)}] [{string.Join(",", partial.Contributors)}] {partial.SubtreeSize}",
        _ => message.ToString(),
    };
}
