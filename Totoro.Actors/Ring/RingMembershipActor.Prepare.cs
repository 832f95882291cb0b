using Totoro.Kernel;

namespace Totoro.Actors.Ring;

/// <summary>
/// Preparing ring messages ahead (<see cref="IPrepareAhead"/>): the functional core's step is computed on another
/// thread from the state as it stands, and used at delivery only if the state, the message, the time and the
/// applications are still the ones it was computed from. Only steps that are pure functions of those are prepared:
/// no upcall to an application (routed application payloads and failed hops, which re-route them, are left to the
/// delivery) and the stateless default planner. Everything with an effect (sends, timers, deliveries, notifications)
/// still happens at delivery, on the world's thread, in order.
/// </summary>
internal sealed partial class RingMembershipActor
{
    private Prepared? _prepared;

    public void Prepare(object message, long timestamp)
    {
        if (message is not RingEnvelope { Message: var ringMessage } envelope || !IsPure(ringMessage) ||
            !ReferenceEquals(_start.Planner, LowestRttPlanner.Instance) || _ring is not { } ring)
        {
            return;
        }

        var applications = _applications;
        var now = RingClock.At(Context.Time, timestamp);
        _prepared = new Prepared(envelope, ring, applications, now, ring.HandleUntagged(envelope, now, applications));
    }

    /// <summary>The prepared step for exactly this delivery, or null; either way the preparation is used up.</summary>
    private MultiRingStep? TakePrepared(RingEnvelope envelope, TimeSpan now)
    {
        var prepared = _prepared;
        if (prepared is null)
        {
            return null;
        }

        _prepared = null;
        return ReferenceEquals(prepared.Envelope, envelope) && ReferenceEquals(prepared.Base, _ring) &&
               ReferenceEquals(prepared.Applications, _applications) && prepared.Now == now
            ? prepared.Step
            : null;
    }

    /// <summary>Messages whose handling calls no application: everything but routed application payloads and failed hops.</summary>
    private static bool IsPure(RingMessage message) => message switch
    {
        RouteMessage { Payload: JoinPayload } => true,
        RouteMessage or DeliveryFailed => false,
        _ => true,
    };

    private sealed record Prepared(RingEnvelope Envelope, MultiRingNodeState Base, ApplicationRouter Applications, TimeSpan Now, MultiRingStep Step);
}
