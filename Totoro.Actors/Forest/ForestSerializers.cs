using System.Collections.Immutable;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Totoro.Actors.Forest.Wire;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Forest;

/// <summary>
/// Wire mapping of every forest message (protobuf types in <c>Forest/Protos/forest.proto</c>). Forest actors exchange
/// <see cref="ForestEnvelope"/>s ("forest.envelope.v1"); the subscribe and create requests travel inside ring routes
/// under manifests of their own. Multicast bodies and fold partials are application values: each travels as its own
/// manifest and bytes, so the registry must also know the application's types. Malformed input (a missing field, a
/// negative size, a blob that does not match its reference) is a <see cref="MessageSerializationException"/> naming
/// what was wrong.
/// </summary>
internal static class ForestSerializers
{
    public const string EnvelopeManifest = "forest.envelope.v1";

    /// <summary>Registers the forest's manifests. With <paramref name="endpoints"/> (separate processes) every handle carries its endpoint.</summary>
    public static void Register(SerializerRegistry registry, RingEndpoints? endpoints = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var codec = new Codec(registry, endpoints);
        registry.Register<ForestEnvelope, ForestEnvelopeWire>(EnvelopeManifest, codec.ToWire, codec.FromWire);
        registry.Register<AckedForestEnvelope, AckedForestEnvelopeWire>(
            "forest.acked.v1",
            acked => new AckedForestEnvelopeWire { Seq = acked.Seq, Envelope = codec.ToWire(acked.Envelope) },
            (wire, resolver) => new AckedForestEnvelope(wire.Seq, codec.FromWire(wire.Envelope ?? throw new MessageSerializationException("Forest wire message lacks its envelope"), resolver)));
        registry.Register<ForestAck, ForestAckWire>("forest.ack.v1", ack => new ForestAckWire { Seq = ack.Seq }, wire => new ForestAck(wire.Seq));
        registry.Register<SubscribeRequest, SubscribeRequestWire>("forest.subscribe.v1", codec.ToWire, codec.FromWire);
        registry.Register<CreateTopicRequest, CreateTopicWire>("forest.create-topic.v1", codec.ToWire, codec.FromWire);
    }

    private sealed class Codec(SerializerRegistry registry, RingEndpoints? endpoints)
    {
        public ForestEnvelopeWire ToWire(ForestEnvelope envelope) =>
            new() { Message = ToWire(envelope.Message), Blob = envelope.Blob.IsEmpty ? ByteString.Empty : ByteString.CopyFrom(envelope.Blob.Span) };

        public ForestEnvelope FromWire(ForestEnvelopeWire wire, IActorRefResolver resolver)
        {
            var message = FromWire(wire.Message ?? throw Missing("message"), resolver);
            if (message is not (SubscribeAccepted or PushDown or Bypass or Unsubscribe or TreeHeartbeat or Multicast or FoldPartial or DestroyTopic))
            {
                // Timers and routed requests never travel between forest actors; accepting them would let a peer close rounds early.
                throw new MessageSerializationException($"Forest envelope carries a {message.GetType().Name}, which does not travel between forest actors");
            }

            var expected = message is Multicast { Content.Blob: { } blob } ? blob.Size : 0;
            if (wire.Blob.Length != expected)
            {
                throw new MessageSerializationException($"Forest envelope carries {wire.Blob.Length} blob bytes where its message announces {expected}");
            }

            return new ForestEnvelope(message, wire.Blob.IsEmpty ? default : wire.Blob.ToByteArray());
        }

        public SubscribeRequestWire ToWire(SubscribeRequest request) => new()
        {
            Topic = ToWire(request.Topic.Key),
            HomeZone = request.HomeZone,
            Scope = request.Scope,
            Subscriber = ToWire(request.Subscriber),
            SubscriberZone = request.SubscriberZone,
            SubtreeSize = request.SubtreeSize,
        };

        public SubscribeRequest FromWire(SubscribeRequestWire wire) => new(
            Topic(wire.Topic),
            Zone(wire.HomeZone, "home zone"),
            Zone(wire.Scope, "scope"),
            FromWire(wire.Subscriber),
            Zone(wire.SubscriberZone, "subscriber zone"),
            NonNegative(wire.SubtreeSize, "subtree size"));

        public CreateTopicWire ToWire(CreateTopicRequest create) => new() { Topic = ToWire(create.Topic.Key), HomeZone = create.HomeZone };

        public CreateTopicRequest FromWire(CreateTopicWire wire) => new(Topic(wire.Topic), Zone(wire.HomeZone, "home zone"));

        private ForestMessageWire ToWire(ForestMessage message) => message switch
        {
            SubscribeRequest request => new() { Subscribe = ToWire(request) },
            CreateTopicRequest create => new() { CreateTopic = ToWire(create) },
            SubscribeAccepted accepted => new() { Accepted = ToWire(accepted) },
            PushDown push => new() { PushDown = new PushDownWire { Request = ToWire(push.Request) } },
            Bypass bypass => new()
            {
                Bypass = new BypassWire
                {
                    Topic = ToWire(bypass.Topic.Key),
                    Relay = ToWire(bypass.Relay),
                    Child = ToWire(bypass.Child.Handle),
                    ChildZone = bypass.Child.Zone,
                    ChildSubtreeSize = bypass.Child.SubtreeSize,
                },
            },
            Unsubscribe leaving => new() { Unsubscribe = new UnsubscribeWire { Topic = ToWire(leaving.Topic.Key), Child = ToWire(leaving.Child) } },
            TreeHeartbeat heartbeat => new() { Heartbeat = ToWire(heartbeat) },
            Multicast multicast => new() { Multicast = ToWire(multicast) },
            FoldPartial partial => new() { Partial = ToWire(partial) },
            DestroyTopic destroy => new() { Destroy = new DestroyTopicWire { Topic = ToWire(destroy.Topic.Key) } },
            FoldDeadline deadline => new() { Deadline = new FoldDeadlineWire { Topic = ToWire(deadline.Topic.Key), Round = deadline.Round } },
            ForestTick => new() { Tick = new ForestTickWire() },
            _ => throw new MessageSerializationException($"{message.GetType().Name} is not a forest wire message"),
        };

        private ForestMessage FromWire(ForestMessageWire wire, IActorRefResolver resolver) => wire.KindCase switch
        {
            ForestMessageWire.KindOneofCase.Subscribe => FromWire(wire.Subscribe),
            ForestMessageWire.KindOneofCase.CreateTopic => FromWire(wire.CreateTopic),
            ForestMessageWire.KindOneofCase.Accepted => new SubscribeAccepted(
                Topic(wire.Accepted.Topic), FromWire(wire.Accepted.Parent), Zone(wire.Accepted.ParentZone, "parent zone"), Ids(wire.Accepted.Path)),
            ForestMessageWire.KindOneofCase.PushDown => FromPushDown(wire.PushDown),
            ForestMessageWire.KindOneofCase.Bypass => new Bypass(
                Topic(wire.Bypass.Topic),
                FromWire(wire.Bypass.Relay),
                new ChildInfo(FromWire(wire.Bypass.Child), Zone(wire.Bypass.ChildZone, "child zone"), NonNegative(wire.Bypass.ChildSubtreeSize, "child subtree size"))),
            ForestMessageWire.KindOneofCase.Unsubscribe => new Unsubscribe(Topic(wire.Unsubscribe.Topic), FromWire(wire.Unsubscribe.Child)),
            ForestMessageWire.KindOneofCase.Heartbeat => new TreeHeartbeat(Topic(wire.Heartbeat.Topic), FromWire(wire.Heartbeat.Parent), Ids(wire.Heartbeat.Path)),
            ForestMessageWire.KindOneofCase.Multicast => FromWire(wire.Multicast, resolver),
            ForestMessageWire.KindOneofCase.Partial => FromWire(wire.Partial, resolver),
            ForestMessageWire.KindOneofCase.Destroy => new DestroyTopic(Topic(wire.Destroy.Topic)),
            ForestMessageWire.KindOneofCase.Deadline => new FoldDeadline(Topic(wire.Deadline.Topic), wire.Deadline.Round),
            ForestMessageWire.KindOneofCase.Tick => ForestTick.Instance,
            _ => throw Missing("forest message"),
        };

        private PushDown FromPushDown(PushDownWire wire)
        {
            var request = FromWire(wire.Request ?? throw Missing("pushed-down request"));
            return new PushDown(request.Topic, request);
        }

        private SubscribeAcceptedWire ToWire(SubscribeAccepted accepted)
        {
            var wire = new SubscribeAcceptedWire { Topic = ToWire(accepted.Topic.Key), Parent = ToWire(accepted.Parent), ParentZone = accepted.ParentZone };
            AddIds(wire.Path, accepted.Path);
            return wire;
        }

        private TreeHeartbeatWire ToWire(TreeHeartbeat heartbeat)
        {
            var wire = new TreeHeartbeatWire { Topic = ToWire(heartbeat.Topic.Key), Parent = ToWire(heartbeat.Parent) };
            AddIds(wire.Path, heartbeat.Path);
            return wire;
        }

        private MulticastWire ToWire(Multicast multicast)
        {
            var wire = new MulticastWire { Topic = ToWire(multicast.Topic.Key), MessageId = multicast.MessageId, Body = ToValueWire(multicast.Content.Body) };
            if (multicast.Content.Blob is { } blob)
            {
                wire.Blob = new BlobRefWire { Id = blob.Id, Size = blob.Size };
            }

            if (multicast.Fold is { } fold)
            {
                wire.Fold = new FoldRequestWire { Round = fold.Round, Kind = fold.Kind, BudgetTicks = fold.Budget.Ticks };
            }

            return wire;
        }

        private Multicast FromWire(MulticastWire wire, IActorRefResolver resolver)
        {
            BlobRef? blob = wire.Blob is null ? null
                : new BlobRef(wire.Blob.Id.Length > 0 ? wire.Blob.Id : throw Missing("blob id"), NonNegative(wire.Blob.Size, "blob size"));
            FoldRequest? fold = wire.Fold is null ? null
                : new FoldRequest(wire.Fold.Round, Kind(wire.Fold.Kind), TimeSpan.FromTicks(NonNegative(wire.Fold.BudgetTicks, "fold budget")));
            return new Multicast(Topic(wire.Topic), wire.MessageId, new MulticastContent(FromValueWire(wire.Body, resolver), blob), fold);
        }

        private FoldPartialWire ToWire(FoldPartial partial)
        {
            var wire = new FoldPartialWire
            {
                Topic = ToWire(partial.Topic.Key),
                Round = partial.Round,
                Kind = partial.Kind,
                Child = ToWire(partial.Child),
                Value = ToValueWire(partial.Value),
                SubtreeSize = partial.SubtreeSize,
            };
            AddIds(wire.Contributors, partial.Contributors);
            return wire;
        }

        private FoldPartial FromWire(FoldPartialWire wire, IActorRefResolver resolver)
        {
            var contributors = Ids(wire.Contributors);
            for (var i = 1; i < contributors.Length; i++)
            {
                if (contributors[i - 1].CompareTo(contributors[i]) >= 0)
                {
                    throw new MessageSerializationException("Forest fold partial's contributors are not sorted and distinct");
                }
            }

            return new FoldPartial(
                Topic(wire.Topic),
                wire.Round,
                Kind(wire.Kind),
                FromWire(wire.Child),
                FromValueWire(wire.Value, resolver),
                contributors,
                NonNegative(wire.SubtreeSize, "subtree size"));
        }

        private ForestValueWire ToValueWire(object value)
        {
            var (manifest, bytes) = registry.Serialize(value);
            return new ForestValueWire { Manifest = manifest, Body = ByteString.CopyFrom(bytes) };
        }

        private object FromValueWire(ForestValueWire? wire, IActorRefResolver resolver) =>
            wire is null || wire.Manifest.Length == 0 ? throw Missing("value") : registry.Deserialize(wire.Manifest, wire.Body.Span, resolver);

        private static ForestIdWire ToWire(NodeId id) => new() { High = (ulong)(id.Value >> 64), Low = (ulong)id.Value };

        private static NodeId FromWire(ForestIdWire? wire) => wire is null ? throw Missing("id") : new NodeId(new UInt128(wire.High, wire.Low));

        private static TopicId Topic(ForestIdWire? wire) => new(wire is null ? throw Missing("topic") : FromWire(wire));

        private ForestHandleWire ToWire(NodeHandle handle) =>
            new() { Id = ToWire(handle.Id), Address = handle.Address.Value, Endpoint = endpoints?.EndpointOf(handle.Address) ?? "" };

        private NodeHandle FromWire(ForestHandleWire? wire)
        {
            if (wire is null)
            {
                throw Missing("node handle");
            }

            var address = new NodeAddress(wire.Address);
            if (endpoints is not null && wire.Endpoint.Length > 0)
            {
                endpoints.Learn(address, wire.Endpoint);
            }

            return new NodeHandle(FromWire(wire.Id), address);
        }

        private static void AddIds(RepeatedField<ForestIdWire> target, ImmutableArray<NodeId> ids)
        {
            foreach (var id in ids)
            {
                target.Add(ToWire(id));
            }
        }

        private static ImmutableArray<NodeId> Ids(RepeatedField<ForestIdWire> wires) => [.. wires.Select(FromWire)];

        private static string Kind(string kind) => kind.Length > 0 ? kind : throw Missing("combiner kind");

        private static int Zone(int zone, string field) =>
            zone is >= 0 and < (1 << ZoneKeys.ZonePrefixBits) ? zone : throw new MessageSerializationException($"Forest wire message has an invalid {field}: {zone}");

        private static T NonNegative<T>(T value, string field)
            where T : System.Numerics.INumber<T> =>
            T.IsNegative(value) ? throw new MessageSerializationException($"Forest wire message has a negative {field}: {value}") : value;

        private static MessageSerializationException Missing(string field) => new($"Forest wire message lacks its {field}");
    }
}
