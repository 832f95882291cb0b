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
    // The preparation, in fields rather than one object per message (10⁸ messages in a 10⁶-node build): the step and
    // the inputs it was computed from. _preparedFor is null when there is none.
    private RingEnvelope? _preparedFor;
    private MultiRingNodeState? _preparedBase;
    private ApplicationRouter? _preparedApplications;
    private TimeSpan _preparedNow;
    private MultiRingStep _preparedStep;

    public void Prepare(object message, long timestamp)
    {
        if (message is not RingEnvelope { Message: var ringMessage } envelope || !IsPure(ringMessage) ||
            !ReferenceEquals(_start.Planner, LowestRttPlanner.Instance) || _ring is not { } ring)
        {
            return;
        }

        var applications = _applications;
        var now = RingClock.At(Context.Time, timestamp);
        _preparedStep = ring.HandleUntagged(envelope, now, applications);
        _preparedBase = ring;
        _preparedApplications = applications;
        _preparedNow = now;
        _preparedFor = envelope;
    }

    /// <summary>The prepared step for exactly this delivery, or null; either way the preparation is used up.</summary>
    private MultiRingStep? TakePrepared(RingEnvelope envelope, TimeSpan now)
    {
        if (_preparedFor is not { } preparedFor)
        {
            return null;
        }

        var usable = ReferenceEquals(preparedFor, envelope) && ReferenceEquals(_preparedBase, _ring) &&
                     ReferenceEquals(_preparedApplications, _applications) && _preparedNow == now;
        var step = _preparedStep;
        _preparedFor = null;
        _preparedBase = null;
        _preparedApplications = null;
        _preparedStep = default;
        return usable ? step : null;
    }

    /// <summary>Messages whose handling calls no application: everything but routed application payloads and failed hops.</summary>
    private static bool IsPure(RingMessage message) => message switch
    {
        RouteMessage { Payload: JoinPayload } => true,
        RouteMessage or DeliveryFailed => false,
        _ => true,
    };
}
