using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Forest;

/// <summary>How one node's forest actor starts: its ring handle and zone, settings, combiners, its ring actor and its links.</summary>
/// <remarks><paramref name="AckTimeout"/>: over links that do not report dead peers, a sent tree message not acknowledged within this declares the peer dead.</remarks>
internal sealed record ForestStart(NodeHandle Self, int Zone, ForestSettings Settings, FoldCombiners Combiners, IActorRef Ring, IForestLinks Links)
{
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The push-down choice of this node's trees (default: longest shared id prefix).</summary>
    public IPushDownChooser PushDown { get; init; } = PrefixPushDownChooser.Instance;
}

/// <summary>
/// One node's part in every topic's tree: a thin shell over <see cref="ForestState"/>. At start it registers
/// <see cref="ForestUpcalls"/> with the node's ring actor for the forest's routed payloads, subscribes to the ring's
/// peer failures and watches its leaf set. Every message goes to the core; the actor swaps in the new state and
/// performs the effects in order: sends to peers' forest actors through <see cref="IForestLinks"/> (a multicast's
/// blob travels with it, once per edge), routes through the ring actor, timers as keyed actor timers (the key is the
/// timer message), deliveries and reports to the topic's local subscribers and listeners and to observers.
/// </summary>
internal sealed class ForestActor : ReceiveActor
{
    private readonly ForestStart _start;
    private ForestState _state = null!;
    private ImmutableDictionary<TopicId, ImmutableArray<IActorRef>> _subscribers = ImmutableDictionary<TopicId, ImmutableArray<IActorRef>>.Empty;
    private ImmutableDictionary<TopicId, ImmutableArray<IActorRef>> _listeners = ImmutableDictionary<TopicId, ImmutableArray<IActorRef>>.Empty;
    private ImmutableArray<IActorRef> _observers = [];
    private Dictionary<long, NodeAddress>? _unacknowledged;
    private long _nextSeq;

    public ForestActor(ForestStart start)
    {
        _start = start;
        ReceiveAny(OnMessage);
    }

    public static Props Props(ForestStart start) => Kernel.Props.Create(() => new ForestActor(start));

    private TimeSpan Now => RingClock.Now(Context.Time);

    private NodeHandle Node => _start.Self;

    protected override void PreStart()
    {
        var upcalls = new ForestUpcalls(Self, _start.Self.Id, _start.Zone);
        _start.Ring.Tell(new RegisterRouteApplication(typeof(SubscribeRequest), upcalls), Self);
        _start.Ring.Tell(new RegisterRouteApplication(typeof(CreateTopicRequest), upcalls), Self);
        _start.Ring.Tell(new SubscribeRingEvents(Self), Self);
        _start.Ring.Tell(new WatchLeafSet(Self), Self);
        var step = ForestState.Create(_start.Self, _start.Zone, _start.Settings, _start.Combiners, _start.PushDown);
        _state = step.State;
        Perform(step.Effects, default);
    }

    private void OnMessage(object message)
    {
        switch (message)
        {
            case ForestEnvelope envelope:
                Apply(_state.Handle(envelope.Message, Now), envelope.Blob);
                break;
            case AckedForestEnvelope acked:
                Sender?.Tell(new ForestAck(acked.Seq), Self);
                Apply(_state.Handle(acked.Envelope.Message, Now), acked.Envelope.Blob);
                break;
            case ForestAck ack:
                OnAck(ack);
                break;
            case ForestAckTimeout timeout:
                if (_unacknowledged is not null && _unacknowledged.Remove(timeout.Seq, out var peer))
                {
                    Apply(_state.OnPeerFailed(peer, Now), default);
                }

                break;
            case ForestMessage timer:
                Apply(_state.Handle(timer, Now), default);
                break;
            case ForestRouteArrived arrived:
                OnRouteArrived(arrived);
                break;
            case RingPeerFailed failed:
                Apply(_state.OnPeerFailed(failed.Peer.Address, Now), default);
                break;
            case ForestPeerUnreachable unreachable:
                Apply(_state.OnPeerFailed(unreachable.Peer, Now), default);
                break;
            case RingLeafSetChanged changed:
                Apply(_state.OnLeafSetChanged(changed.Leaves, Now), default);
                break;
            case RingJoined or RingRouteAbandoned:
                // Joins need nothing; an abandoned subscribe is routed again by the core's subscribe retry.
                break;
            case ForestCommand command:
                OnCommand(command);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnCommand(ForestCommand command)
    {
        switch (command)
        {
            case CreateForestTopic create:
                AddListener(create.Topic, create.Listener);
                Apply(_state.CreateTopic(create.Topic, create.HomeZone), default);
                break;
            case JoinTopic join:
                _subscribers = _subscribers.SetItem(join.Topic, Add(_subscribers, join.Topic, join.Subscriber));
                Apply(_state.Subscribe(join.Topic, join.HomeZone, Now), default);
                break;
            case ListenToTopic listen:
                AddListener(listen.Topic, listen.Listener);
                break;
            case LeaveTopic leave:
                OnLeave(leave);
                break;
            case PublishToTopic publish:
                OnPublish(publish);
                break;
            case ContributeToRound contribute:
                Apply(_state.Contribute(contribute.Topic, contribute.Round, contribute.Partial), default);
                break;
            case AbstainFromRound abstain:
                Apply(_state.Abstain(abstain.Topic, abstain.Round), default);
                break;
            case DestroyForestTopic destroy:
                Apply(_state.DestroyTopic(destroy.Topic), default);
                break;
            case ObserveForest observe:
                _observers = _observers.Add(observe.Observer);
                break;
            case GetTreeReport:
                Sender?.Tell(new ForestSnapshot(_state), Self);
                break;
            default:
                Unhandled(command);
                break;
        }
    }

    /// <summary>
    /// A forest payload the ring delivered here, or one it passed through (always absorbed by <see cref="ForestUpcalls"/>).
    /// For a pass-through the core decides as Scribe's forward upcall would: adopt here (absorb), adopt and subscribe
    /// onward (replace), or not take it (continue); the latter two route on from this node through the ring.
    /// </summary>
    private void OnRouteArrived(ForestRouteArrived arrived)
    {
        if (arrived.Delivered)
        {
            Apply(_state.OnDeliver(arrived.Context, Now), default);
            return;
        }

        var (step, verdict) = _state.OnForward(arrived.Context, Now);
        Apply(step, default);
        var request = (SubscribeRequest)arrived.Context.Payload;
        var onward = verdict switch
        {
            ForwardVerdict.ReplaceVerdict replace => replace.Payload,
            ForwardVerdict.ContinueVerdict => request,
            _ => null,
        };
        if (onward is not null)
        {
            _start.Ring.Tell(new RouteRequest(request.Key, RingId.Zone(request.Scope), onward), Self);
        }
    }

    private void OnLeave(LeaveTopic leave)
    {
        var remaining = _subscribers.GetValueOrDefault(leave.Topic, []).Remove(leave.Subscriber);
        _subscribers = remaining.IsEmpty ? _subscribers.Remove(leave.Topic) : _subscribers.SetItem(leave.Topic, remaining);
        if (remaining.IsEmpty)
        {
            Apply(_state.Unsubscribe(leave.Topic), default);
        }
    }

    private void OnPublish(PublishToTopic publish)
    {
        if (_state.Trees.GetValueOrDefault(publish.Topic) is not { IsHomeRoot: true })
        {
            Sender?.Tell(new PublishRefused(publish.Topic, publish.MessageId, $"node {Node.Id.ToShortString()} is not the root of {publish.Topic}"), Self);
            return;
        }

        var blob = publish.Blob.IsEmpty ? null : new BlobRef($"{publish.Topic.Key}/{publish.MessageId}", publish.Blob.Length);
        Apply(_state.Publish(publish.Topic, publish.MessageId, new MulticastContent(publish.Body, blob), publish.Fold, Now), publish.Blob);
    }

    private void Apply(ForestStep step, ReadOnlyMemory<byte> blob)
    {
        _state = step.State;
        Perform(step.Effects, blob);
    }

    /// <summary>Performs the effects in order. <paramref name="blob"/> is the bytes of the multicast being handled, if any.</summary>
    private void Perform(ImmutableArray<ForestEffect> effects, ReadOnlyMemory<byte> blob)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case SendToPeer send:
                    var attached = send.Message is Multicast { Content.Blob: not null } ? blob : default;
                    Send(send.To, new ForestEnvelope(send.Message, attached));
                    break;
                case RouteToKey route:
                    _start.Ring.Tell(new RouteRequest(route.Key, route.Ring, route.Payload), Self);
                    break;
                case StartTimer timer:
                    Timers.StartSingleTimer(timer.Timer, timer.Timer, timer.Delay);
                    break;
                case StopTimer stop:
                    Timers.Cancel(stop.Timer);
                    break;
                case DeliverToApp deliver:
                    var delivery = new ForestDelivery(Node, deliver.Topic, deliver.MessageId, deliver.Content.Body, deliver.Content.Blob is null ? default : blob, deliver.Fold);
                    Notify(_subscribers.GetValueOrDefault(deliver.Topic, []), delivery);
                    break;
                case ForestReport report:
                    Notify(ReportTargets(report), new ForestNotification(Node, report));
                    break;
                case ChildFoldReported reported:
                    _start.PushDown.Observe(_start.Self, reported.Topic, reported.Child, reported.Latency);
                    break;
                default:
                    throw new InvalidOperationException($"The forest shell cannot perform {effect}");
            }
        }
    }

    /// <summary>
    /// Over links that cannot tell a dead peer, every tree message but the periodic heartbeat is acknowledged: a
    /// missing ack is how a parent learns that a child died (a push-down or publish to it), as the ring shell does for
    /// routed hops. Heartbeats are not: a child learns of a dead parent from their absence.
    /// </summary>
    private void Send(NodeAddress to, ForestEnvelope envelope)
    {
        if (_start.Links.ReportsUnreachable || envelope.Message is TreeHeartbeat)
        {
            _start.Links.Send(Node.Address, to, envelope, Self);
            return;
        }

        var seq = _nextSeq++;
        (_unacknowledged ??= [])[seq] = to;
        Timers.StartSingleTimer(new ForestAckTimeout(seq), new ForestAckTimeout(seq), _start.AckTimeout);
        _start.Links.Send(Node.Address, to, new AckedForestEnvelope(seq, envelope), Self);
    }

    private void OnAck(ForestAck ack)
    {
        if (_unacknowledged?.Remove(ack.Seq) == true)
        {
            Timers.Cancel(new ForestAckTimeout(ack.Seq));
        }
    }

    private ImmutableArray<IActorRef> ReportTargets(ForestReport report)
    {
        var topic = report switch
        {
            FoldCompleted completed => completed.Topic,
            BecameRoot root => root.Topic,
            Attached attached => attached.Topic,
            PartialDropped dropped => dropped.Topic,
            RootHandedOver handedOver => handedOver.Topic,
            _ => default,
        };
        return _subscribers.GetValueOrDefault(topic, []).AddRange(_listeners.GetValueOrDefault(topic, []));
    }

    private void Notify(ImmutableArray<IActorRef> targets, object message)
    {
        foreach (var target in targets)
        {
            target.Tell(message, Self);
        }

        foreach (var observer in _observers)
        {
            observer.Tell(message, Self);
        }
    }

    private void AddListener(TopicId topic, IActorRef? listener)
    {
        if (listener is not null)
        {
            _listeners = _listeners.SetItem(topic, Add(_listeners, topic, listener));
        }
    }

    private static ImmutableArray<IActorRef> Add(ImmutableDictionary<TopicId, ImmutableArray<IActorRef>> map, TopicId topic, IActorRef actor)
    {
        var current = map.GetValueOrDefault(topic, []);
        return current.Contains(actor) ? current : current.Add(actor);
    }
}
