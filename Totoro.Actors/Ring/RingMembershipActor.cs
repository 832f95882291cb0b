using System.Collections.Immutable;
using Totoro.Kernel;

namespace Totoro.Actors.Ring;

/// <summary>
/// Hosts one node of the multi-ring overlay. Every ring message and timer goes to the functional core
/// (<see cref="MultiRingNodeState"/>); the actor swaps in the new state and performs the effects in order: sends
/// through <see cref="IRingLinks"/>, timers as keyed actor timers (the key is the timer message itself), deliveries
/// to the application registered for the payload's type (else <paramref name="fallback"/>), and notifications to
/// subscribers.
/// </summary>
internal sealed partial class RingMembershipActor : UntypedActor, IPrepareAhead
{
    private readonly RingMembershipStart _start;
    private readonly IRingLinks _links;
    private Dictionary<long, (NodeAddress To, RingEnvelope Envelope, TimeSpan SentAt)>? _unacknowledged;
    private long _nextHop;

    // The shell's state: the ring core's state (immutable, swapped whole), the applications registered per payload
    // type, and the subscribers to ring events. Separate fields rather than one record, so that a message that
    // changes only the core's state allocates no shell record (10⁸ messages in a 10⁶-node simulation).
    private MultiRingNodeState _ring = null!;
    private ApplicationRouter _applications;
    private ImmutableArray<IActorRef> _subscribers;
    private ImmutableArray<IActorRef> _leafSetWatchers = [];

    public RingMembershipActor(RingMembershipStart start, IRingLinks links, IRouteApplication fallback, ImmutableArray<IActorRef> subscribers)
    {
        _start = start;
        _links = links;
        _applications = new ApplicationRouter(ImmutableDictionary<Type, IRouteApplication>.Empty, fallback);
        _subscribers = subscribers;
    }

    public static Props Props(RingMembershipStart start, IRingLinks links, IRouteApplication fallback, ImmutableArray<IActorRef> subscribers) =>
        Kernel.Props.Create(() => new RingMembershipActor(start, links, fallback, subscribers));

    protected override void PreStart()
    {
        var begin = _start.Begin(_start.Planner);
        _ring = begin.State;
        Perform(begin.Effects);
    }

    private TimeSpan Now => RingClock.Now(Context.Time);

    // No handler table (an UntypedActor): the simulator hosts 10⁶ of these, and a table costs ~200 B per actor.
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case RingEnvelope envelope:
                OnRingMessage(envelope);
                break;
            case AckedHop hop:
                OnAckedHop(hop);
                break;
            case HopAck ack:
                OnHopAck(ack);
                break;
            case HopTimeout timeout:
                OnHopTimeout(timeout);
                break;
            case RingCommand command:
                OnCommand(command);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnRingMessage(RingEnvelope envelope)
    {
        var leaves = _ring.ZoneRing.Leaves;
        var now = Now;
        var step = TakePrepared(envelope, now) ?? _ring.HandleUntagged(envelope, now, _applications);
        _ring = step.State;
        Perform(step.Effects, step.Ring);
        if (!_leafSetWatchers.IsEmpty && !ReferenceEquals(leaves, _ring.ZoneRing.Leaves))
        {
            var changed = new RingLeafSetChanged(_ring.ZoneRing.Self, [.. _ring.ZoneRing.Leaves.Members().Select(NodeHandle.Of)]);
            foreach (var watcher in _leafSetWatchers)
            {
                watcher.Tell(changed, Self);
            }
        }
    }

    private void OnAckedHop(AckedHop hop)
    {
        Sender?.Tell(new HopAck(hop.Seq), Self);
        OnRingMessage(hop.Envelope);
    }

    private void OnHopAck(HopAck ack)
    {
        if (_unacknowledged is not null && _unacknowledged.Remove(ack.Seq, out var hop))
        {
            Timers.Cancel(new HopTimeout(ack.Seq));
            if (_start.Planner is IHopFeedback feedback && hop.Envelope.Message is RouteMessage route)
            {
                feedback.ObserveHop(route.Key, hop.To, Now - hop.SentAt);
            }
        }
    }

    /// <summary>The next hop never took the message: the core declares it dead and re-routes (lazy table repair).</summary>
    private void OnHopTimeout(HopTimeout timeout)
    {
        if (_unacknowledged is not null && _unacknowledged.Remove(timeout.Seq, out var hop))
        {
            OnRingMessage(new RingEnvelope(hop.Envelope.Ring, new DeliveryFailed(hop.To, hop.Envelope.Message)));
        }
    }

    private void OnCommand(RingCommand command)
    {
        switch (command)
        {
            case RouteRequest route:
                OnRoute(route);
                break;
            case RegisterRouteApplication register:
                _applications = _applications.With(register.PayloadType, register.Application);
                break;
            case SubscribeRingEvents subscribe:
                _subscribers = _subscribers.Add(subscribe.Subscriber);
                break;
            case WatchLeafSet watch:
                _leafSetWatchers = _leafSetWatchers.Add(watch.Watcher);
                break;
            case LeaveRing:
                OnLeave();
                break;
            case GetRingState:
                Sender?.Tell(new RingStateSnapshot(_ring), Self);
                break;
            default:
                Unhandled(command);
                break;
        }
    }

    private void OnRoute(RouteRequest route)
    {
        var step = _ring.Route(route.Key, route.Ring, route.Payload);
        _ring = step.State;
        Perform(step.Effects);
    }

    private void OnLeave()
    {
        var ring = _ring;
        var zone = ring.ZoneRing.Leave();
        var global = ring.GlobalRing?.Leave();
        _ring = ring with { ZoneRing = zone.State, GlobalRing = global?.State };
        Perform(MultiRingNodeState.Tag(ring.ZoneRingId, zone.Effects));
        if (global is { } globalStep)
        {
            Perform(MultiRingNodeState.Tag(RingId.Global, globalStep.Effects));
        }

        RingLog.Left(Log, _start.Self);
        Context.Stop(Self);
    }

    /// <summary>Performs <paramref name="effects"/> in order; with <paramref name="ring"/> set they are that ring's, still untagged.</summary>
    private void Perform(ImmutableArray<RingEffect> effects, RingId? ring = null)
    {
        foreach (var effect in effects)
        {
            // Tagging inline (as MultiRingNodeState.Tag would): the envelope is the message, no tagged copy of the effect.
            switch (effect)
            {
                case Send send:
                    SendEnvelope(send.To, ring is { } id ? new RingEnvelope(id, send.Message) : send.Message as RingEnvelope
                        ?? throw new InvalidOperationException($"The ring shell cannot perform {effect}"));
                    break;
                case ScheduleTimer timer:
                    var key = ring is { } timerRing ? RingEnvelope.ForTimer(timerRing, timer.Timer) : timer.Timer;
                    Timers.StartSingleTimer(key, key, timer.Delay);
                    break;
                case CancelTimer cancel:
                    Timers.Cancel(ring is { } cancelRing ? RingEnvelope.ForTimer(cancelRing, cancel.Timer) : cancel.Timer);
                    break;
                case Deliver deliver:
                    _applications.Deliver(deliver.Context);
                    break;
                case JoinCompleted joined:
                    RingLog.Joined(Log, joined.Self);
                    Publish(new RingJoined(joined.Self));
                    break;
                case PeerFailed failed:
                    RingLog.PeerFailed(Log, _start.Self, failed.Peer);
                    Publish(new RingPeerFailed(_start.Self, failed.Peer));
                    break;
                case RouteAbandoned abandoned:
                    RingLog.RouteAbandoned(Log, _start.Self, abandoned.Key, abandoned.Hops, abandoned.Reason);
                    Publish(new RingRouteAbandoned(_start.Self, abandoned.Key, abandoned.Payload, abandoned.Hops, abandoned.Reason));
                    break;
                default:
                    throw new InvalidOperationException($"The ring shell cannot perform {effect}");
            }
        }
    }

    private void SendEnvelope(NodeAddress to, RingEnvelope envelope)
    {
        if (envelope.Message is RouteMessage && !_links.ReportsFailedHops)
        {
            SendAcknowledged(to, envelope);
        }
        else
        {
            _links.Send(_start.Self.Address, to, envelope, Self);
        }
    }

    private void SendAcknowledged(NodeAddress to, RingEnvelope envelope)
    {
        var seq = _nextHop++;
        (_unacknowledged ??= [])[seq] = (to, envelope, Now);
        Timers.StartSingleTimer(new HopTimeout(seq), new HopTimeout(seq), _start.Settings.HopAckTimeout);
        _links.Send(_start.Self.Address, to, new AckedHop(seq, envelope), Self);
    }

    private void Publish(object notification)
    {
        foreach (var subscriber in _subscribers)
        {
            subscriber.Tell(notification, Self);
        }
    }
}

/// <summary>Dispatches forward and deliver upcalls by the payload's exact runtime type; other payloads go to the fallback.</summary>
internal sealed class ApplicationRouter(ImmutableDictionary<Type, IRouteApplication> applications, IRouteApplication fallback) : IRouteApplication
{
    public ApplicationRouter With(Type payloadType, IRouteApplication application) => new(applications.SetItem(payloadType, application), fallback);

    public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop) => For(context.Payload).Forward(context, nextHop);

    public void Deliver(RouteContext context) => For(context.Payload).Deliver(context);

    private IRouteApplication For(object payload) =>
        applications.IsEmpty || !applications.TryGetValue(payload.GetType(), out var application) ? fallback : application;
}
