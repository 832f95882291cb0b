using System.Collections.Immutable;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Sim;

/// <summary>The driver's event loop: a virtual-time queue of ring and forest messages, timers and scheduled actions.</summary>
internal partial class ForestDriver
{
    public void At(TimeSpan time, Action action) => Enqueue(time, new Pending(-1, null, 0, action));

    public void RunFor(TimeSpan duration) => RunUntil(Now + duration);

    public void RunUntil(TimeSpan until)
    {
        while (queue.TryPeek(out _, out var priority) && priority.Ticks <= until.Ticks)
        {
            var pending = queue.Dequeue();
            Now = TimeSpan.FromTicks(priority.Ticks);
            if (pending.Action is { } action)
            {
                action();
                continue;
            }

            var isTimer = pending.Generation > 0;
            if ((isTimer && timerGenerations.GetValueOrDefault((pending.Node, pending.Message!)) != pending.Generation) || !up[pending.Node])
            {
                continue;
            }

            switch (pending.Message)
            {
                case RingEnvelope envelope:
                    HandleRing(pending.Node, envelope);
                    break;
                case ForestMessage message:
                    if (message is Multicast or FoldPartial && !forests[pending.Node]!.Trees.ContainsKey(message.Topic))
                    {
                        Strays.Add((pending.Node, message));
                    }

                    Apply(pending.Node, forests[pending.Node]!.Handle(message, Now));
                    break;
                case PeerDown down:
                    Apply(pending.Node, forests[pending.Node]!.OnPeerFailed(new NodeAddress(down.Peer), Now));
                    break;
                default:
                    throw new InvalidOperationException("unknown pending item");
            }
        }

        Now = until;
    }

    private void HandleRing(int node, RingEnvelope envelope)
    {
        var application = new ForestRouteApplication(forests[node]!, Now);
        var step = rings[node]!.Handle(envelope, Now, application);
        rings[node] = step.State;
        forests[node] = application.State;
        PerformForest(node, application.Effects);
        PerformRing(node, step.Effects);
    }

    private void Apply(int node, ForestStep step)
    {
        forests[node] = step.State;
        PerformForest(node, step.Effects);
    }

    private void PerformRing(int node, ImmutableArray<RingEffect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case Totoro.Actors.Ring.Send send:
                    Transmit(node, send.To.Value, send.Message, send.Message is RingEnvelope { Message: RouteMessage } ? send.Message : null);
                    break;
                case ScheduleTimer schedule:
                    Enqueue(Now + schedule.Delay, new Pending(node, schedule.Timer, BumpTimer(node, schedule.Timer), null));
                    break;
                case Totoro.Actors.Ring.CancelTimer cancel:
                    BumpTimer(node, cancel.Timer);
                    break;
                case Deliver deliver:
                    var application = new ForestRouteApplication(forests[node]!, Now);
                    application.Deliver(deliver.Context);
                    forests[node] = application.State;
                    PerformForest(node, application.Effects);
                    break;
                case PeerFailed failed when ReportRingPeerFailures:
                    Apply(node, forests[node]!.OnPeerFailed(failed.Peer.Address, Now));
                    break;
                case RouteAbandoned abandoned:
                    Abandoned.Add(abandoned);
                    break;
                default:
                    break;
            }
        }
    }

    private void PerformForest(int node, ImmutableArray<ForestEffect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case SendToPeer send:
                    Sent.Add((node, send.To.Value, send.Message));
                    Transmit(node, send.To.Value, send.Message, null);
                    break;
                case RouteToKey route:
                    var step = rings[node]!.Route(route.Key, route.Ring, route.Payload);
                    rings[node] = step.State;
                    PerformRing(node, step.Effects);
                    break;
                case StartTimer start:
                    Enqueue(Now + start.Delay, new Pending(node, start.Timer, BumpTimer(node, start.Timer), null));
                    break;
                case StopTimer stop:
                    BumpTimer(node, stop.Timer);
                    break;
                case DeliverToApp deliver:
                    AppDeliveries.Add((node, deliver.Topic, deliver.MessageId));
                    if (deliver.Fold is { } fold && Contribution is { } contribution)
                    {
                        var self = node;
                        At(Now + TrainingTime, () =>
                        {
                            if (up[self])
                            {
                                var value = contribution(self, deliver.Topic, fold.Round);
                                Apply(self, value is null ? forests[self]!.Abstain(deliver.Topic, fold.Round) : forests[self]!.Contribute(deliver.Topic, fold.Round, value));
                            }
                        });
                    }

                    break;
                case ForestReport report:
                    Reports.Add((node, report, Now));
                    break;
                default:
                    throw new InvalidOperationException($"unhandled forest effect {effect}");
            }
        }
    }

    /// <summary>Ring route messages to a dead node bounce as <c>DeliveryFailed</c>; forest messages as a peer failure.</summary>
    private void Transmit(int from, int to, object message, object? ringRoute)
    {
        if (!up[to])
        {
            if (ringRoute is RingEnvelope { Message: RouteMessage route } envelope)
            {
                Enqueue(Now + HopTimeout, new Pending(from, new RingEnvelope(envelope.Ring, new DeliveryFailed(new NodeAddress(to), route)), 0, null));
            }
            else if (message is ForestMessage)
            {
                Enqueue(Now + ForestFailureDelay, new Pending(from, new PeerDown(to), 0, null));
            }

            return;
        }

        var bytes = message is Multicast { Content.Blob: { } blob } ? 64 + blob.Size : 64;
        var outcome = Network.Transmit(from, to, bytes, Now);
        if (outcome.Delivered)
        {
            Enqueue(outcome.Arrival, new Pending(to, message, 0, null));
        }
    }

    private long BumpTimer(int node, object timer)
    {
        var generation = timerGenerations.GetValueOrDefault((node, timer)) + 1;
        timerGenerations[(node, timer)] = generation;
        return generation;
    }

    private void Enqueue(TimeSpan time, Pending pending) => queue.Enqueue(pending, (time.Ticks, sequence++));

    private sealed record PeerDown(int Peer);

    private sealed record Pending(int Node, object? Message, long Generation, Action? Action);
}
