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
}
