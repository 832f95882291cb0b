namespace Totoro.Kernel;

/// <summary>
/// The system's scheduler for code outside actors (inside an actor prefer <see cref="ITimerScheduler"/>, which is
/// cancelled with the actor). Runs on the system's <see cref="TimeProvider"/>; dispose the result to cancel.
/// </summary>
public interface IScheduler
{
    TimeProvider Time { get; }

    IDisposable ScheduleTellOnce(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender = null);

    IDisposable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, IActorRef receiver, object message, IActorRef? sender = null);

    /// <summary>
    /// <see cref="ScheduleTellOnce"/> without a handle to cancel it. Under a deterministic world the tell is queued as
    /// one world step with no timer object, which matters to simulators that schedule every message (10⁸ of them).
    /// </summary>
    void ScheduleTellOnceUncancellable(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender = null) =>
        ScheduleTellOnce(delay, receiver, message, sender);
}
