using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>Routing of messages that pass through this node, and re-routing around a failed hop.</summary>
internal sealed partial record RingNodeState
{
    private RingNodeState OnRoute(RouteMessage message, TimeSpan now, IRouteApplication application, ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Ready)
        {
            effects.Add(new RouteAbandoned(message.Key, message.Payload, message.Hops, "node is not ready"));
            return this;
        }

        if (message.Payload is JoinPayload join)
        {
            return OnJoinRoute(message, join, now, effects);
        }

        if (message.Payload is LeafSetProbe probe)
        {
            return OnLeafSetProbe(message, probe, now, effects);
        }

        var decision = Decide(message.Key, message.Converging);
        var context = new RouteContext(message.Key, message.Payload, message.Sender, message.Hops, []);
        if (decision.IsDeliverHere)
        {
            effects.Add(new Deliver(context));
            return this;
        }

        if (message.Hops >= Settings.MaxHops)
        {
            effects.Add(new RouteAbandoned(message.Key, message.Payload, message.Hops, "hop limit reached"));
            return this;
        }

        var next = Planner.Choose(message.Key, decision);
        var converging = ConvergingAfter(message.Converging, decision, next, message.Key);
        switch (application.Forward(context, NodeHandle.Of(next)))
        {
            case ForwardVerdict.ReplaceVerdict replace:
                effects.Add(new Send(next.Address, message with { Sender = Self, Payload = replace.Payload, Hops = message.Hops + 1, Converging = converging }));
                break;
            case ForwardVerdict.ContinueVerdict:
                effects.Add(new Send(next.Address, message with { Sender = Self, Hops = message.Hops + 1, Converging = converging }));
                break;
            default:
                break;
        }

        return this;
    }

    private RingNodeState OnLeafSetProbe(RouteMessage message, LeafSetProbe probe, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (probe.Origin.Id == Self.Id)
        {
            return this;
        }

        // The probe proves its origin alive, like any message straight from it.
        var state = HeardFrom(probe.Origin).LearnUnmeasured(probe.Origin, now);
        var decision = state.Decide(message.Key, message.Converging);
        if (decision.IsDeliverHere || message.Hops >= Settings.MaxHops)
        {
            effects.Add(new Send(probe.Origin.Address, new LeafSetReply(Self, state.Leaves.ToView())));
        }
        else
        {
            var next = state.Planner.Choose(message.Key, decision);
            effects.Add(new Send(next.Address, message with { Sender = Self, Hops = message.Hops + 1, Converging = ConvergingAfter(message.Converging, decision, next, message.Key) }));
        }

        return state;
    }

    private RingNodeState OnDeliveryFailed(DeliveryFailed failed, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var state = FindByAddress(failed.To) is { } peer ? DeclareDead(peer.Id, now, effects) : this;
        if (failed.Message is not RouteMessage route || state.Phase != RingPhase.Ready)
        {
            return state;
        }

        if (route.Payload is JoinPayload join)
        {
            return state.OnJoinRoute(route with { Hops = route.Hops - 1 }, join, now, effects);
        }

        if (route.Payload is LeafSetProbe)
        {
            return state;
        }

        // Re-route the message as it left this node: the application already saw it here, so no second upcall.
        // The flag as it left is at least as strict as the one it arrived with, so keeping it is safe.
        var decision = state.Decide(route.Key, route.Converging);
        if (decision.IsDeliverHere)
        {
            effects.Add(new Deliver(new RouteContext(route.Key, route.Payload, null, route.Hops - 1, [])));
        }
        else
        {
            var next = state.Planner.Choose(route.Key, decision);
            effects.Add(new Send(next.Address, route with { Converging = ConvergingAfter(route.Converging, decision, next, route.Key) }));
        }

        return state;
    }

    private bool ConvergingAfter(bool converging, RouteDecision decision, PeerEntry next, NodeId key) =>
        RouteDecider.Next(converging, decision, Settings.Geometry, Self.Id, next.Id, key);
}
