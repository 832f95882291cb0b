namespace Totoro.Kernel;

/// <summary>The <see cref="IScheduler"/> over a <see cref="TimeProvider"/>'s timers (virtual under a world).</summary>
internal sealed class KernelScheduler(TimeProvider time) : IScheduler
{
    public TimeProvider Time => time;

    public IDisposable ScheduleTellOnce(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender = null) =>
        ScheduleTellRepeatedly(delay, Timeout.InfiniteTimeSpan, receiver, message, sender);

    public IDisposable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, IActorRef receiver, object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        return time.CreateTimer(static state => ((ScheduledTell)state!).Run(), new ScheduledTell(receiver, message, sender), initialDelay, interval);
    }

    public void ScheduleTellOnceUncancellable(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        if (time is VirtualTimeProvider world)
        {
            // Same step order as a one-shot timer (one world step at the due time, sequenced when scheduled) without
            // the timer, its callback delegate and the boxed generation.
            world.World.ScheduleTell(delay, receiver, message, sender);
            return;
        }

        ScheduleTellOnce(delay, receiver, message, sender);
    }

    /// <summary>Delays a system message (supervision back-off).</summary>
    internal void ScheduleSystemMessage(TimeSpan delay, InternalActorRef receiver, SystemMessage message)
    {
        ITimer? timer = null;
        timer = time.CreateTimer(_ =>
        {
            receiver.SendSystemMessage(message);
            timer?.Dispose();
        }, null, delay, Timeout.InfiniteTimeSpan);
    }

    private sealed record ScheduledTell(IActorRef Receiver, object Message, IActorRef? Sender)
    {
        public void Run() => Receiver.Tell(Message, Sender);
    }
}
