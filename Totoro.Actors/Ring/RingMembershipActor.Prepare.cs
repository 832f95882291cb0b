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
/// <remarks>
/// A preparation may run while this actor handles an earlier message on the world's thread. It reads the state once
/// (one immutable reference) and publishes its result as one immutable object with a single compare-and-swap into an
/// empty slot; the delivery takes it out the same way. A slot still holding the preparation of a message not yet
/// delivered is left alone (the new message is computed at delivery instead), and a preparation whose time has passed
/// without its message is dropped.
/// </remarks>
internal sealed partial class RingMembershipActor
{
    private Prepared? _prepared;

    public void Prepare(object message, long timestamp)
    {
        if (message is not RingEnvelope { Message: var ringMessage } envelope || !IsPure(ringMessage) ||
            !ReferenceEquals(_start.Planner, LowestRttPlanner.Instance) || Volatile.Read(ref _prepared) is not null)
        {
            return;
        }

        var ring = Volatile.Read(ref _ring);
        var applications = Volatile.Read(ref _applications);
        if (ring is null)
        {
            return;
        }

        var now = RingClock.At(Context.Time, timestamp);
        var prepared = new Prepared(envelope, ring, applications, now, ring.HandleUntagged(envelope, now, applications));
        Interlocked.CompareExchange(ref _prepared, prepared, null);
    }

    /// <summary>The prepared step for exactly this delivery, or null.</summary>
    private MultiRingStep? TakePrepared(RingEnvelope envelope, TimeSpan now)
    {
        var prepared = Volatile.Read(ref _prepared);
        if (prepared is null)
        {
            return null;
        }

        if (!ReferenceEquals(prepared.Envelope, envelope))
        {
            // A later message's preparation stays; one whose time has passed without its message (dropped on the way) goes.
            if (prepared.Now < now)
            {
                Interlocked.CompareExchange(ref _prepared, null, prepared);
            }

            return null;
        }

        Interlocked.CompareExchange(ref _prepared, null, prepared);
        return ReferenceEquals(prepared.Base, _ring) && ReferenceEquals(prepared.Applications, _applications) && prepared.Now == now
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
