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
