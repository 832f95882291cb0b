using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Totoro.Actors.Ring;

/// <summary>
/// Keys and ids of the multi-ring overlay. Each zone z has a zone key: the top 16 bits of SHA-256("zone:z")
/// followed by a 1 and zeros, i.e. the centre of that 2^112-wide id block. A gateway of zone z joins the global
/// ring under a global id made of the zone's 16-bit prefix and the low 112 bits of its node id, so every gateway
/// of zone z lies in zone z's block and the live global-ring node closest to the zone key is a zone-z gateway
/// whenever one is alive.
/// </summary>
internal static class ZoneKeys
{
    public const int ZonePrefixBits = 16;

    private static readonly UInt128 LowMask = (UInt128.One << (128 - ZonePrefixBits)) - 1;

    public static NodeId ZoneKey(int zone) => new((Prefix(zone) << (128 - ZonePrefixBits)) | (UInt128.One << (127 - ZonePrefixBits)));

    public static NodeId GlobalIdFor(int zone, NodeId nodeId) => new((Prefix(zone) << (128 - ZonePrefixBits)) | (nodeId.Value & LowMask));

    /// <summary>True when the zone ids map to distinct 16-bit prefixes (required for gateway resolution).</summary>
    public static bool ArePrefixesDistinct(IEnumerable<int> zones) =>
        zones.Select(Prefix).GroupBy(prefix => prefix).All(group => group.Count() == 1);

    /// <summary>The stable gateway choice: the <paramref name="count"/> members numerically closest to the zone key.</summary>
    public static ImmutableArray<NodeId> SelectGateways(IEnumerable<NodeId> zoneMembers, int zone, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var key = ZoneKey(zone);
        return [.. zoneMembers.OrderBy(id => id.DistanceTo(key)).ThenBy(id => id.Value).Take(count)];
    }

    private static UInt128 Prefix(int zone) => NodeId.FromName("zone:" + zone.ToString(System.Globalization.CultureInfo.InvariantCulture)).Value >> (128 - ZonePrefixBits);
}

/// <summary>
/// A node of the multi-ring overlay: a member of its zone ring and, if it is a gateway, of the global ring too.
/// A cross-zone route runs in up to three segments — own zone ring to the zone key (a gateway), global ring to the
/// target zone's key (a target-zone gateway), target zone ring to the real key — and the final delivery reports
/// the hops of each segment in <see cref="RouteContext.Segments"/>.
/// </summary>
internal sealed record MultiRingNodeState(int Zone, RingNodeState ZoneRing, RingNodeState? GlobalRing)
{
    public bool IsGateway => GlobalRing is not null;

    public RingId ZoneRingId => RingId.Zone(Zone);

    /// <summary>Lifts single-ring steps (e.g. from creation) into a multi-ring node, tagging their effects.</summary>
    public static RingStep<MultiRingNodeState> Compose(int zone, RingStep<RingNodeState> zoneStep, RingStep<RingNodeState>? globalStep)
    {
        var state = new MultiRingNodeState(zone, zoneStep.State, globalStep?.State);
        var effects = Tag(RingId.Zone(zone), zoneStep.Effects);
        return new(state, globalStep is { } global ? effects.AddRange(Tag(RingId.Global, global.Effects)) : effects);
    }

    /// <summary>Routes <paramref name="payload"/> to the node closest to <paramref name="key"/> within ring <paramref name="target"/>.</summary>
    public RingStep<MultiRingNodeState> Route(NodeId key, RingId target, object payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (target == ZoneRingId)
        {
            return Process(ZoneRingId, ZoneRing.Route(key, payload));
        }

        var crossing = new CrossZonePayload(key, target, payload, []);
        return IsGateway
            ? ContinueCrossZone(ZoneRingId, new RouteContext(ZoneKeys.ZoneKey(Zone), crossing, null, 0, []), crossing)
            : Process(ZoneRingId, ZoneRing.Route(ZoneKeys.ZoneKey(Zone), crossing));
    }

    public RingStep<MultiRingNodeState> Handle(RingEnvelope envelope, TimeSpan now, IRouteApplication application) =>
        HandleUntagged(envelope, now, application).Tagged();

    /// <summary>
    /// <see cref="Handle"/> without the tagging copy: in the common case (no cross-zone segment ends here) the step
    /// carries the ring's effects as the ring produced them plus the ring they belong to, and the shell tags each
    /// effect as it performs it.
    /// </summary>
    public MultiRingStep HandleUntagged(RingEnvelope envelope, TimeSpan now, IRouteApplication application)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (IsGateway && envelope.Message is RouteMessage { Payload: CrossZonePayload crossing } arriving && IsSegmentShortcut(envelope.Ring, crossing))
        {
            // Any gateway of the right zone can end a segment: no need to walk on to the zone key's owner.
            return MultiRingStep.Of(ContinueCrossZone(envelope.Ring, new RouteContext(arriving.Key, crossing, arriving.Sender, arriving.Hops, []), crossing));
        }

        // Only routed messages (and failed hops, which re-route them) reach the forward upcall; the rest need no adapter.
        var adapter = envelope.Message is RouteMessage or DeliveryFailed ? new CrossZoneApplication(application) : application;
        if (envelope.Ring == ZoneRingId)
        {
            var step = ZoneRing.Handle(envelope.Message, now, adapter);
            // Most messages (probes, replies that teach nothing) leave the ring state as it was: keep this version, so
            // no new one is allocated and promoted while the node waits for its next message.
            return (ReferenceEquals(step.State, ZoneRing) ? this : this with { ZoneRing = step.State }).ProcessUntagged(ZoneRingId, step);
        }

        if (envelope.Ring.IsGlobal && GlobalRing is { } global)
        {
            var step = global.Handle(envelope.Message, now, adapter);
            return (ReferenceEquals(step.State, global) ? this : this with { GlobalRing = step.State }).ProcessUntagged(RingId.Global, step);
        }

        return new(this, null, envelope.Message is RouteMessage route
            ? [new RouteAbandoned(route.Key, route.Payload, route.Hops, $"not a member of ring {envelope.Ring}")]
            : []);
    }

    public static ImmutableArray<RingEffect> Tag(RingId ring, ImmutableArray<RingEffect> effects)
    {
        if (effects.IsEmpty)
        {
            return effects;
        }

        var tagged = new RingEffect[effects.Length];
        for (var i = 0; i < tagged.Length; i++)
        {
            tagged[i] = Tag(ring, effects[i]);
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(tagged);
    }

    /// <summary>One effect of ring <paramref name="ring"/> as the multi-ring shell performs it: messages and timers wrapped in the ring's envelope.</summary>
    public static RingEffect Tag(RingId ring, RingEffect effect) => effect switch
    {
        Send send => new Send(send.To, new RingEnvelope(ring, send.Message)),
        ScheduleTimer timer => new ScheduleTimer(RingEnvelope.ForTimer(ring, timer.Timer), timer.Delay),
        CancelTimer cancel => new CancelTimer(RingEnvelope.ForTimer(ring, cancel.Timer)),
        _ => effect,
    };

    /// <summary>Tags a ring's effects and turns the end of a cross-zone segment into the start of the next.</summary>
    private RingStep<MultiRingNodeState> Process(RingId ring, RingStep<RingNodeState> step) => ProcessUntagged(ring, step).Tagged();

    /// <summary><see cref="Process"/>, leaving the effects untagged (for the shell to tag) unless a segment ends here.</summary>
    private MultiRingStep ProcessUntagged(RingId ring, RingStep<RingNodeState> step)
    {
        if (step.Effects.IsEmpty)
        {
            return new(this, null, []);
        }

        if (!EndsSegment(step.Effects))
        {
            // The common case: the ring's effects as they are, tagged by whoever performs them.
            return new(this, ring, step.Effects);
        }

        var state = this;
        var effects = ImmutableArray.CreateBuilder<RingEffect>(step.Effects.Length);
        foreach (var effect in step.Effects)
        {
            if (effect is Deliver { Context.Payload: CrossZonePayload crossing } deliver)
            {
                var continued = state.ContinueCrossZone(ring, deliver.Context, crossing);
                state = continued.State;
                effects.AddRange(continued.Effects);
            }
            else
            {
                effects.Add(Tag(ring, effect));
            }
        }

        return new(state, null, effects.Count == effects.Capacity ? effects.MoveToImmutable() : effects.ToImmutable());
    }

    private static bool EndsSegment(ImmutableArray<RingEffect> effects)
    {
        foreach (var effect in effects)
        {
            if (effect is Deliver { Context.Payload: CrossZonePayload })
            {
                return true;
            }
        }

        return false;
    }

    private RingStep<MultiRingNodeState> ContinueCrossZone(RingId arrivedOn, RouteContext context, CrossZonePayload crossing)
    {
        var segments = crossing.SegmentHops.Add(context.Hops);
        var next = crossing with { SegmentHops = segments };
        var stage = crossing.SegmentHops.Length;
        if (stage == 0)
        {
            return GlobalRing is { } global
                ? Process(RingId.Global, global.Route(GlobalKey(crossing), next))
                : Abandon(context, crossing, "the zone key's owner is not a gateway");
        }

        if (stage == 1 && arrivedOn.IsGlobal)
        {
            if (crossing.Target.IsGlobal)
            {
                return Delivered(context, crossing, segments);
            }

            return crossing.Target == ZoneRingId
                ? Process(ZoneRingId, ZoneRing.Route(crossing.Key, next))
                : Abandon(context, crossing, $"no live gateway of {crossing.Target} in the global ring");
        }

        return Delivered(context, crossing, segments);
    }

    /// <summary>
    /// A crossing that reaches a gateway on its way: in its own zone ring before the global segment (this gateway can
    /// enter the global ring), or in the global ring when this gateway belongs to the target zone (it can enter the
    /// target zone ring). Either saves the hops from here to the zone key's owner.
    /// </summary>
    private bool IsSegmentShortcut(RingId ring, CrossZonePayload crossing) =>
        (ring == ZoneRingId && crossing.SegmentHops.IsEmpty && crossing.Target != ZoneRingId) ||
        (ring.IsGlobal && crossing.SegmentHops.Length == 1 && crossing.Target == ZoneRingId);

    private static NodeId GlobalKey(CrossZonePayload crossing) =>
        crossing.Target.IsGlobal ? crossing.Key : ZoneKeys.ZoneKey(crossing.Target.Value);

    private RingStep<MultiRingNodeState> Delivered(RouteContext context, CrossZonePayload crossing, ImmutableArray<int> segments) =>
        new(this, [new Deliver(new RouteContext(crossing.Key, crossing.Payload, context.Sender, segments.Sum(), segments))]);

    private RingStep<MultiRingNodeState> Abandon(RouteContext context, CrossZonePayload crossing, string reason) =>
        new(this, [new RouteAbandoned(crossing.Key, crossing.Payload, crossing.SegmentHops.Sum() + context.Hops, reason)]);

    /// <summary>Shows the application the real key and payload of a crossing message at intermediate hops.</summary>
    private sealed class CrossZoneApplication(IRouteApplication inner) : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
        {
            if (context.Payload is not CrossZonePayload crossing)
            {
                return inner.Forward(context, nextHop);
            }

            var verdict = inner.Forward(context with { Key = crossing.Key, Payload = crossing.Payload }, nextHop);
            return verdict is ForwardVerdict.ReplaceVerdict replace ? ForwardVerdict.Replace(crossing with { Payload = replace.Payload }) : verdict;
        }

        public void Deliver(RouteContext context) => inner.Deliver(context);
    }
}

/// <summary>
/// A multi-ring step as <see cref="MultiRingNodeState.HandleUntagged"/> returns it. When <see cref="Ring"/> is set,
/// <see cref="Effects"/> are that ring's effects not yet tagged (see <see cref="MultiRingNodeState.Tag(RingId, RingEffect)"/>);
/// when it is null they are tagged already.
/// </summary>
internal readonly record struct MultiRingStep(MultiRingNodeState State, RingId? Ring, ImmutableArray<RingEffect> Effects)
{
    public static MultiRingStep Of(RingStep<MultiRingNodeState> tagged) => new(tagged.State, null, tagged.Effects);

    public RingStep<MultiRingNodeState> Tagged() => new(State, Ring is { } ring ? MultiRingNodeState.Tag(ring, Effects) : Effects);
}
