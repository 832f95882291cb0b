using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Ring;

/// <summary>
/// Test harness, not a product simulator: a priority queue by virtual time that performs ring effects. Sends go
/// through the <see cref="NetworkModel"/> for their arrival time; a routed message sent to a node that is down
/// comes back to its sender as <see cref="DeliveryFailed"/> after <see cref="HopTimeout"/> (a hop-ack timeout).
/// </summary>
internal sealed class RingPump(NetworkModel network, Func<int, RingMessage, TimeSpan, ImmutableArray<RingEffect>> handle, Func<int, bool> isUp)
{
    private readonly PriorityQueue<Pending, (long Ticks, long Sequence)> queue = new();
    private readonly Dictionary<(int Node, RingMessage Timer), long> timerGenerations = [];
    private long sequence;

    public TimeSpan Now { get; private set; }

    public TimeSpan HopTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public long MessagesSent { get; private set; }

    public List<(int Node, RingEffect Effect, TimeSpan At)> Observed { get; } = [];

    /// <summary>Messages sent so far, by message type.</summary>
    public Dictionary<Type, long> SentByType { get; } = [];

    public Action<int, RouteContext>? OnDeliver { get; set; }

    public void At(TimeSpan time, Action action) => Enqueue(time, new Pending(-1, null, 0, action));

    public void Perform(int node, ImmutableArray<RingEffect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case Send send:
                    SentByType[send.Message.GetType()] = SentByType.GetValueOrDefault(send.Message.GetType()) + 1;
                    Transmit(node, send);
                    break;
                case ScheduleTimer schedule:
                    Enqueue(Now + schedule.Delay, new Pending(node, schedule.Timer, BumpTimer(node, schedule.Timer), null));
                    break;
                case CancelTimer cancel:
                    BumpTimer(node, cancel.Timer);
                    break;
                case Deliver deliver:
                    Observed.Add((node, effect, Now));
                    OnDeliver?.Invoke(node, deliver.Context);
                    break;
                default:
                    Observed.Add((node, effect, Now));
                    break;
            }
        }
    }

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
            if ((isTimer && timerGenerations.GetValueOrDefault((pending.Node, pending.Message!)) != pending.Generation) || !isUp(pending.Node))
            {
                continue;
            }

            Perform(pending.Node, handle(pending.Node, pending.Message!, Now));
        }

        Now = until;
    }

    public void RunFor(TimeSpan duration) => RunUntil(Now + duration);

    private void Transmit(int from, Send send)
    {
        MessagesSent++;
        var to = send.To.Value;
        if (!isUp(to))
        {
            var inner = send.Message is RingEnvelope envelope ? envelope.Message : send.Message;
            if (inner is RouteMessage)
            {
                RingMessage failure = new DeliveryFailed(send.To, inner);
                if (send.Message is RingEnvelope wrapped)
                {
                    failure = new RingEnvelope(wrapped.Ring, failure);
                }

                Enqueue(Now + HopTimeout, new Pending(from, failure, 0, null));
            }

            return;
        }

        var outcome = network.Transmit(from, to, SizeOf(send.Message), Now);
        if (outcome.Delivered)
        {
            Enqueue(outcome.Arrival, new Pending(to, send.Message, 0, null));
        }
    }

    private long BumpTimer(int node, RingMessage timer)
    {
        var generation = timerGenerations.GetValueOrDefault((node, timer)) + 1;
        timerGenerations[(node, timer)] = generation;
        return generation;
    }

    private void Enqueue(TimeSpan time, Pending pending) => queue.Enqueue(pending, (time.Ticks, sequence++));

    /// <summary>A rough wire size: a header plus 24 bytes per node handle carried.</summary>
    private static long SizeOf(RingMessage message) => message switch
    {
        RingEnvelope envelope => 4 + SizeOf(envelope.Message),
        JoinReply reply => 64 + (24L * (reply.Rows.Length + reply.Neighborhood.Length + reply.LeafSet.Length)),
        AnnounceReply reply => 64 + (24L * reply.LeafSet.Length),
        LeafSetReply reply => 64 + (24L * reply.LeafSet.Length),
        RowEntryReply reply => 64 + (24L * reply.Candidates.Length),
        LeaveNotice notice => 64 + (24L * notice.LeafSet.Length),
        _ => 64,
    };

    private sealed record Pending(int Node, RingMessage? Message, long Generation, Action? Action);
}
