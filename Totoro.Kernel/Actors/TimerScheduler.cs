namespace Totoro.Kernel;

/// <summary>
/// Timers on the system's <see cref="TimeProvider"/> (virtual under the deterministic world). Each firing is a
/// <see cref="Fired"/> envelope stamped with a generation; the cell accepts it only if the key still has that generation.
/// </summary>
internal sealed class TimerScheduler(ActorCell cell) : ITimerScheduler
{
    private readonly Dictionary<object, Entry> _timers = [];
    private long _generation;

    public void StartSingleTimer(object key, object message, TimeSpan delay) => Start(key, message, delay, Timeout.InfiniteTimeSpan);

    public void StartPeriodicTimer(object key, object message, TimeSpan interval) => Start(key, message, interval, interval);

    public void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval) =>
        Start(key, message, initialDelay, interval);

    public bool IsTimerActive(object key) => _timers.ContainsKey(key);

    public void Cancel(object key)
    {
        if (_timers.Remove(key, out var entry))
        {
            entry.Timer.Dispose();
        }
    }

    public void CancelAll()
    {
        foreach (var entry in _timers.Values)
        {
            entry.Timer.Dispose();
        }
        _timers.Clear();
    }

    /// <summary>True if the firing is current; a single timer is then forgotten.</summary>
    internal bool TryAccept(Fired fired)
    {
        if (!_timers.TryGetValue(fired.Key, out var entry) || entry.Generation != fired.Generation)
        {
            return false;
        }
        if (!entry.Periodic)
        {
            _timers.Remove(fired.Key);
            entry.Timer.Dispose();
        }
        return true;
    }

    private void Start(object key, object message, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        Cancel(key);
        var fired = new Fired(key, message, ++_generation) { Owner = cell };
        var timer = cell.System.Time.CreateTimer(static state => ((Fired)state!).Owner!.TellLocal(state!, null), fired, dueTime, period);
        _timers[key] = new Entry(timer, fired.Generation, period != Timeout.InfiniteTimeSpan);
    }

    private readonly record struct Entry(ITimer Timer, long Generation, bool Periodic);

    internal sealed record Fired(object Key, object Message, long Generation)
    {
        public ActorCell? Owner { get; init; }
    }
}
