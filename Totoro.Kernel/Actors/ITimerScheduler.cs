namespace Totoro.Kernel;

/// <summary>
/// Keyed timers owned by one actor. Starting a timer with an existing key replaces it; a cancelled or replaced
/// timer's message is never delivered, even if it was already queued. All timers stop with the actor.
/// </summary>
public interface ITimerScheduler
{
    void StartSingleTimer(object key, object message, TimeSpan delay);

    void StartPeriodicTimer(object key, object message, TimeSpan interval);

    void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval);

    bool IsTimerActive(object key);

    void Cancel(object key);

    void CancelAll();
}
