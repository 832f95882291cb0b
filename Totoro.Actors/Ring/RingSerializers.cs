using System.Collections.Immutable;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Totoro.Actors.Ring.Wire;
using Totoro.Kernel;

namespace Totoro.Actors.Ring;

/// <summary>
/// Wire mapping of every ring message (protobuf types in <c>Protos/ring.proto</c>). Ring actors exchange
/// <see cref="RingEnvelope"/>s ("ring.envelope.v1"); each message type also has a manifest of its own so it can be
/// sent bare. An application payload inside a routed message travels as its own manifest and bytes, so the registry
/// must also know the application's messages.
/// </summary>
internal static class RingSerializers
{
    public const string EnvelopeManifest = "ring.envelope.v1";

    /// <summary>
    /// Registers every ring message under its stable manifest. With <paramref name="endpoints"/> (nodes in separate
    /// processes), every node handle on the wire also carries its node's endpoint, and every handle read fills the book.
    /// </summary>
    public static void Register(SerializerRegistry registry, RingEndpoints? endpoints = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var codec = new Codec(registry, endpoints);
        registry.Register<RingEnvelope, RingEnvelopeWire>(EnvelopeManifest, codec.ToWire, codec.FromWire);
        registry.Register<RouteMessage, RouteWire>("ring.route.v1", codec.ToWire, codec.FromWire);
        registry.Register<JoinPayload, JoinPayloadWire>("ring.join-payload.v1", codec.ToWire, codec.FromWire);
        registry.Register<LeafSetProbe, LeafSetProbeWire>("ring.leaf-set-probe.v1", codec.ToWire, codec.FromWire);
        registry.Register<CrossZonePayload, CrossZonePayloadWire>("ring.cross-zone-payload.v1", codec.ToWire, codec.FromWire);
        registry.Register<JoinReply, JoinReplyWire>("ring.join-reply.v1", codec.ToWire, codec.FromWire);
        registry.Register<Announce, AnnounceWire>("ring.announce.v1", codec.ToWire, codec.FromWire);
        registry.Register<AnnounceReply, AnnounceReplyWire>("ring.announce-reply.v1", codec.ToWire, codec.FromWire);
        registry.Register<Probe, ProbeWire>("ring.probe.v1", codec.ToWire, codec.FromWire);
        registry.Register<ProbeReply, ProbeReplyWire>("ring.probe-reply.v1", codec.ToWire, codec.FromWire);
        registry.Register<LeafSetRequest, LeafSetRequestWire>("ring.leaf-set-request.v1", codec.ToWire, codec.FromWire);
        registry.Register<LeafSetReply, LeafSetReplyWire>("ring.leaf-set-reply.v1", codec.ToWire, codec.FromWire);
        registry.Register<RowEntryRequest, RowEntryRequestWire>("ring.row-entry-request.v1", codec.ToWire, codec.FromWire);
        registry.Register<RowEntryReply, RowEntryReplyWire>("ring.row-entry-reply.v1", codec.ToWire, codec.FromWire);
        registry.Register<RowRequest, RowRequestWire>("ring.row-request.v1", codec.ToWire, codec.FromWire);
        registry.Register<RowReply, RowReplyWire>("ring.row-reply.v1", codec.ToWire, codec.FromWire);
        registry.Register<LeaveNotice, LeaveNoticeWire>("ring.leave.v1", codec.ToWire, codec.FromWire);
        registry.Register<HeartbeatTick, TickWire>("ring.heartbeat-tick.v1", _ => new TickWire(), _ => HeartbeatTick.Instance);
        registry.Register<LeafSetExchangeTick, TickWire>("ring.leaf-set-exchange-tick.v1", _ => new TickWire(), _ => LeafSetExchangeTick.Instance);
        registry.Register<JoinRetryTick, TickWire>("ring.join-retry-tick.v1", _ => new TickWire(), _ => JoinRetryTick.Instance);
        registry.Register<TableMaintenanceTick, TickWire>("ring.table-maintenance-tick.v1", _ => new TickWire(), _ => TableMaintenanceTick.Instance);
        registry.Register<AckedHop, AckedHopWire>("ring.acked-hop.v1", hop => new AckedHopWire { Seq = hop.Seq, Envelope = codec.ToWire(hop.Envelope) }, (wire, resolver) => new AckedHop(wire.Seq, codec.FromWire(wire.Envelope ?? throw new MessageSerializationException("Ring wire message lacks its envelope"), resolver)));
        registry.Register<HopAck, HopAckWire>("ring.hop-ack.v1", ack => new HopAckWire { Seq = ack.Seq }, wire => new HopAck(wire.Seq));
        registry.Register<DeliveryFailed, DeliveryFailedWire>("ring.delivery-failed.v1", codec.ToWire, codec.FromWire);
    }

    private sealed class Codec(SerializerRegistry registry, RingEndpoints? endpoints)
    {
        public RingEnvelopeWire ToWire(RingEnvelope envelope) => new() { Ring = envelope.Ring.Value, Message = ToWire(envelope.Message) };

        public RingEnvelope FromWire(RingEnvelopeWire wire, IActorRefResolver resolver) =>
            new(new RingId(wire.Ring), FromWire(wire.Message ?? throw Missing("message"), resolver));

        public RouteWire ToWire(RouteMessage route) => new()
        {
            Sender = ToWire(route.Sender),
            Key = ToWire(route.Key),
            Payload = ToPayloadWire(route.Payload),
            Hops = route.Hops,
            Converging = route.Converging,
        };

        public RouteMessage FromWire(RouteWire wire, IActorRefResolver resolver) =>
            new(FromWire(wire.Sender), FromWire(wire.Key), FromPayloadWire(wire.Payload, resolver), wire.Hops) { Converging = wire.Converging };

        public CrossZonePayloadWire ToWire(CrossZonePayload crossing)
        {
            var wire = new CrossZonePayloadWire { Key = ToWire(crossing.Key), TargetRing = crossing.Target.Value, Payload = ToPayloadWire(crossing.Payload) };
            wire.SegmentHops.AddRange(crossing.SegmentHops);
            return wire;
        }

        public CrossZonePayload FromWire(CrossZonePayloadWire wire, IActorRefResolver resolver) =>
            new(FromWire(wire.Key), new RingId(wire.TargetRing), FromPayloadWire(wire.Payload, resolver), [.. wire.SegmentHops]);

        public DeliveryFailedWire ToWire(DeliveryFailed failed) => new() { To = failed.To.Value, Message = ToWire(failed.Message) };

        public DeliveryFailed FromWire(DeliveryFailedWire wire, IActorRefResolver resolver) =>
            new(new NodeAddress(wire.To), FromWire(wire.Message ?? throw Missing("message"), resolver));

        public JoinPayloadWire ToWire(JoinPayload join) => new() { Joiner = ToWire(join.Joiner), Attempt = join.Attempt };

        public JoinPayload FromWire(JoinPayloadWire wire) => new(FromWire(wire.Joiner), wire.Attempt);

        public LeafSetProbeWire ToWire(LeafSetProbe probe) => new() { Origin = ToWire(probe.Origin) };

        public LeafSetProbe FromWire(LeafSetProbeWire wire) => new(FromWire(wire.Origin));

        public JoinReplyWire ToWire(JoinReply reply)
        {
            var wire = new JoinReplyWire { Sender = ToWire(reply.Sender), Attempt = reply.Attempt, HopIndex = reply.HopIndex, PathLength = reply.PathLength ?? 0 };
            AddAll(wire.Rows, reply.Rows);
            AddAll(wire.Neighborhood, reply.Neighborhood);
            AddAll(wire.LeafSet, reply.LeafSet);
            return wire;
        }

        public JoinReply FromWire(JoinReplyWire wire) => new(
            FromWire(wire.Sender),
            wire.Attempt,
            wire.HopIndex,
            FromWire(wire.Rows),
            FromWire(wire.Neighborhood),
            LeafSetFromWire(wire.LeafSet),
            wire.PathLength == 0 ? null : wire.PathLength);

        public AnnounceWire ToWire(Announce announce) => new() { Sender = ToWire(announce.Sender), SentAtTicks = announce.SentAt.Ticks };

        public Announce FromWire(AnnounceWire wire) => new(FromWire(wire.Sender), TimeSpan.FromTicks(wire.SentAtTicks));

        public AnnounceReplyWire ToWire(AnnounceReply reply)
        {
            var wire = new AnnounceReplyWire { Sender = ToWire(reply.Sender), EchoSentAtTicks = reply.EchoSentAt.Ticks, SentAtTicks = reply.SentAt.Ticks };
            AddAll(wire.LeafSet, reply.LeafSet);
            return wire;
        }

        public AnnounceReply FromWire(AnnounceReplyWire wire) =>
            new(FromWire(wire.Sender), TimeSpan.FromTicks(wire.EchoSentAtTicks), TimeSpan.FromTicks(wire.SentAtTicks), LeafSetFromWire(wire.LeafSet));

        public ProbeWire ToWire(Probe probe) => new() { Sender = ToWire(probe.Sender), SentAtTicks = probe.SentAt.Ticks };

        public Probe FromWire(ProbeWire wire) => new(FromWire(wire.Sender), TimeSpan.FromTicks(wire.SentAtTicks));

        public ProbeReplyWire ToWire(ProbeReply reply) => new() { Sender = ToWire(reply.Sender), EchoSentAtTicks = reply.EchoSentAt.Ticks };

        public ProbeReply FromWire(ProbeReplyWire wire) => new(FromWire(wire.Sender), TimeSpan.FromTicks(wire.EchoSentAtTicks));

        public LeafSetRequestWire ToWire(LeafSetRequest request) => new() { Sender = ToWire(request.Sender) };

        public LeafSetRequest FromWire(LeafSetRequestWire wire) => new(FromWire(wire.Sender));

        public LeafSetReplyWire ToWire(LeafSetReply reply)
        {
            var wire = new LeafSetReplyWire { Sender = ToWire(reply.Sender) };
            AddAll(wire.LeafSet, reply.LeafSet);
            return wire;
        }

        public LeafSetReply FromWire(LeafSetReplyWire wire) => new(FromWire(wire.Sender), LeafSetFromWire(wire.LeafSet));

        public RowEntryRequestWire ToWire(RowEntryRequest request) => new() { Sender = ToWire(request.Sender), Row = request.Row, Column = request.Column };

        public RowEntryRequest FromWire(RowEntryRequestWire wire) => new(FromWire(wire.Sender), wire.Row, wire.Column);

        public RowEntryReplyWire ToWire(RowEntryReply reply)
        {
            var wire = new RowEntryReplyWire { Sender = ToWire(reply.Sender) };
            AddAll(wire.Candidates, reply.Candidates);
            return wire;
        }

        public RowEntryReply FromWire(RowEntryReplyWire wire) => new(FromWire(wire.Sender), FromWire(wire.Candidates));

        public RowRequestWire ToWire(RowRequest request) => new() { Sender = ToWire(request.Sender), Row = request.Row };

        public RowRequest FromWire(RowRequestWire wire) => new(FromWire(wire.Sender), wire.Row);

        public RowReplyWire ToWire(RowReply reply)
        {
            var wire = new RowReplyWire { Sender = ToWire(reply.Sender), Row = reply.Row };
            AddAll(wire.Entries, reply.Entries);
            return wire;
        }

        public RowReply FromWire(RowReplyWire wire) => new(FromWire(wire.Sender), wire.Row, FromWire(wire.Entries));

        public LeaveNoticeWire ToWire(LeaveNotice notice)
        {
            var wire = new LeaveNoticeWire { Sender = ToWire(notice.Sender) };
            AddAll(wire.LeafSet, notice.LeafSet);
            return wire;
        }

        public LeaveNotice FromWire(LeaveNoticeWire wire) => new(FromWire(wire.Sender), LeafSetFromWire(wire.LeafSet));

        private RingMessageWire ToWire(RingMessage message) => message switch
        {
            RouteMessage route => new RingMessageWire { Route = ToWire(route) },
            JoinReply reply => new RingMessageWire { JoinReply = ToWire(reply) },
            Announce announce => new RingMessageWire { Announce = ToWire(announce) },
            AnnounceReply reply => new RingMessageWire { AnnounceReply = ToWire(reply) },
            Probe probe => new RingMessageWire { Probe = ToWire(probe) },
            ProbeReply reply => new RingMessageWire { ProbeReply = ToWire(reply) },
            LeafSetRequest request => new RingMessageWire { LeafSetRequest = ToWire(request) },
            LeafSetReply reply => new RingMessageWire { LeafSetReply = ToWire(reply) },
            RowEntryRequest request => new RingMessageWire { RowEntryRequest = ToWire(request) },
            RowEntryReply reply => new RingMessageWire { RowEntryReply = ToWire(reply) },
            RowRequest request => new RingMessageWire { RowRequest = ToWire(request) },
            RowReply reply => new RingMessageWire { RowReply = ToWire(reply) },
            LeaveNotice notice => new RingMessageWire { Leave = ToWire(notice) },
            HeartbeatTick => new RingMessageWire { HeartbeatTick = new TickWire() },
            LeafSetExchangeTick => new RingMessageWire { LeafSetExchangeTick = new TickWire() },
            JoinRetryTick => new RingMessageWire { JoinRetryTick = new TickWire() },
            TableMaintenanceTick => new RingMessageWire { TableMaintenanceTick = new TickWire() },
            DeliveryFailed failed => new RingMessageWire { DeliveryFailed = ToWire(failed) },
            _ => throw new MessageSerializationException($"{message.GetType().Name} cannot travel inside a ring envelope"),
        };

        private RingMessage FromWire(RingMessageWire wire, IActorRefResolver resolver) => wire.KindCase switch
        {
            RingMessageWire.KindOneofCase.Route => FromWire(wire.Route, resolver),
            RingMessageWire.KindOneofCase.JoinReply => FromWire(wire.JoinReply),
            RingMessageWire.KindOneofCase.Announce => FromWire(wire.Announce),
            RingMessageWire.KindOneofCase.AnnounceReply => FromWire(wire.AnnounceReply),
            RingMessageWire.KindOneofCase.Probe => FromWire(wire.Probe),
            RingMessageWire.KindOneofCase.ProbeReply => FromWire(wire.ProbeReply),
            RingMessageWire.KindOneofCase.LeafSetRequest => FromWire(wire.LeafSetRequest),
            RingMessageWire.KindOneofCase.LeafSetReply => FromWire(wire.LeafSetReply),
            RingMessageWire.KindOneofCase.RowEntryRequest => FromWire(wire.RowEntryRequest),
            RingMessageWire.KindOneofCase.RowEntryReply => FromWire(wire.RowEntryReply),
            RingMessageWire.KindOneofCase.RowRequest => FromWire(wire.RowRequest),
            RingMessageWire.KindOneofCase.RowReply => FromWire(wire.RowReply),
            RingMessageWire.KindOneofCase.Leave => FromWire(wire.Leave),
            RingMessageWire.KindOneofCase.HeartbeatTick => HeartbeatTick.Instance,
            RingMessageWire.KindOneofCase.LeafSetExchangeTick => LeafSetExchangeTick.Instance,
            RingMessageWire.KindOneofCase.JoinRetryTick => JoinRetryTick.Instance,
            RingMessageWire.KindOneofCase.TableMaintenanceTick => TableMaintenanceTick.Instance,
            RingMessageWire.KindOneofCase.DeliveryFailed => FromWire(wire.DeliveryFailed, resolver),
            _ => throw Missing("ring message"),
        };

        private RoutePayloadWire ToPayloadWire(object payload) => payload switch
        {
            JoinPayload join => new RoutePayloadWire { Join = ToWire(join) },
            CrossZonePayload crossing => new RoutePayloadWire { CrossZone = ToWire(crossing) },
            LeafSetProbe probe => new RoutePayloadWire { LeafSetProbe = ToWire(probe) },
            _ => ApplicationWire(payload),
        };

        private RoutePayloadWire ApplicationWire(object payload)
        {
            var (manifest, bytes) = registry.Serialize(payload);
            return new RoutePayloadWire { Application = new ApplicationPayloadWire { Manifest = manifest, Body = ByteString.CopyFrom(bytes) } };
        }

        private object FromPayloadWire(RoutePayloadWire? wire, IActorRefResolver resolver) => wire?.KindCase switch
        {
            RoutePayloadWire.KindOneofCase.Join => FromWire(wire.Join),
            RoutePayloadWire.KindOneofCase.CrossZone => FromWire(wire.CrossZone, resolver),
            RoutePayloadWire.KindOneofCase.LeafSetProbe => FromWire(wire.LeafSetProbe),
            RoutePayloadWire.KindOneofCase.Application => registry.Deserialize(wire.Application.Manifest, wire.Application.Body.Span, resolver),
            _ => throw Missing("payload"),
        };

        private static NodeIdWire ToWire(NodeId id) => new() { High = (ulong)(id.Value >> 64), Low = (ulong)id.Value };

        private static NodeId FromWire(NodeIdWire? wire) =>
            wire is null ? throw Missing("id") : new NodeId(new UInt128(wire.High, wire.Low));

        private NodeHandleWire ToWire(NodeHandle handle) =>
            new() { Id = ToWire(handle.Id), Address = handle.Address.Value, Endpoint = endpoints?.EndpointOf(handle.Address) ?? "" };

        private NodeHandle FromWire(NodeHandleWire? wire)
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

        private void AddAll(RepeatedField<NodeHandleWire> target, ImmutableArray<NodeHandle> handles)
        {
            foreach (var handle in handles)
            {
                target.Add(ToWire(handle));
            }
        }

        private void AddAll(RepeatedField<NodeHandleWire> target, LeafSetView members)
        {
            foreach (var handle in members)
            {
                target.Add(ToWire(handle));
            }
        }

        private LeafSetView LeafSetFromWire(RepeatedField<NodeHandleWire> wires) => LeafSetView.OfHandles(FromWire(wires));

        private ImmutableArray<NodeHandle> FromWire(RepeatedField<NodeHandleWire> wires)
        {
            var handles = ImmutableArray.CreateBuilder<NodeHandle>(wires.Count);
            foreach (var wire in wires)
            {
                handles.Add(FromWire(wire));
            }

            return handles.MoveToImmutable();
        }

        private static MessageSerializationException Missing(string field) => new($"Ring wire message lacks its {field}");
    }
}
