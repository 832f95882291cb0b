namespace Totoro.Kernel;

/// <summary>
/// Timers on the system's <see cref="TimeProvider"/> (virtual under the deterministic world). Each firing is a
/// <see cref="Fired"/> envelope stamped with a generation; the cell accepts it only if the key still has that generation.
/// </summary>
/// <remarks>
/// Most actors have a handful of timer keys, so they live in a small array searched linearly (keys compared with
/// <see cref="object.Equals(object?, object?)"/>, as a dictionary would): ~150 B for four timers instead of a
/// ~440 B dictionary, which matters to simulators hosting 10⁶ actors. Past <see cref="SmallLimit"/> keys (e.g. one
/// timer per unacknowledged hop) they move to a dictionary for good.
/// </remarks>
internal sealed class TimerScheduler(ActorCell cell) : ITimerScheduler
{
    private const int SmallLimit = 8;
    private Entry[] _timers = [];
    private int _count;
    private Dictionary<object, Entry>? _large;
    private long _generation;

    public void StartSingleTimer(object key, object message, TimeSpan delay) => Start(key, message, delay, Timeout.InfiniteTimeSpan);

    public void StartPeriodicTimer(object key, object message, TimeSpan interval) => Start(key, message, interval, interval);

    public void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval) =>
        Start(key, message, initialDelay, interval);

    public bool IsTimerActive(object key) => _large?.ContainsKey(key) ?? IndexOf(key) >= 0;

    public void Cancel(object key)
    {
        if (_large is not null)
        {
            if (_large.Remove(key, out var removed))
            {
                removed.Timer?.Dispose();
            }
            return;
        }
        var index = IndexOf(key);
        if (index >= 0)
        {
            var entry = _timers[index];
            RemoveAt(index);
            entry.Timer?.Dispose();
        }
    }

    public void CancelAll()
    {
        if (_large is not null)
        {
            foreach (var entry in _large.Values)
            {
                entry.Timer?.Dispose();
            }
            _large.Clear();
            return;
        }
        for (var index = 0; index < _count; index++)
        {
            _timers[index].Timer?.Dispose();
        }
        Array.Clear(_timers, 0, _count);
        _count = 0;
    }

    /// <summary>True if the firing of <paramref name="key"/> with <paramref name="generation"/> is still pending (not cancelled, restarted or already taken).</summary>
    internal bool IsCurrent(object key, long generation) => _large is not null
        ? _large.TryGetValue(key, out var found) && found.Generation == generation
        : IndexOf(key) is var index && index >= 0 && _timers[index].Generation == generation;

    /// <summary>True if the firing is current; a single timer is then forgotten.</summary>
    internal bool TryAccept(Fired fired)
    {
        if (_large is not null)
        {
            if (!_large.TryGetValue(fired.Key, out var found) || found.Generation != fired.Generation)
            {
                return false;
            }
            if (!found.Periodic)
            {
                _large.Remove(fired.Key);
                found.Timer?.Dispose();
            }
            return true;
        }
        var index = IndexOf(fired.Key);
        if (index < 0 || _timers[index].Generation != fired.Generation)
        {
            return false;
        }
        if (!_timers[index].Periodic)
        {
            var entry = _timers[index];
            RemoveAt(index);
            entry.Timer?.Dispose();
        }
        return true;
    }

    private void Start(object key, object message, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        Cancel(key);
        ITimer? timer = null;
        long generation;
        if (period == Timeout.InfiniteTimeSpan && dueTime != Timeout.InfiniteTimeSpan && cell.System.Time is VirtualTimeProvider virtualTime)
        {
            // Under a world a single timer is its firing step alone (the step a virtual timer would queue: same due
            // time, same sequence position), and the step's sequence number is the generation; the Fired envelope
            // is made when the step finds the timer still pending. Cancelling forgets the entry.
            generation = virtualTime.World.ScheduleActorTimer(dueTime, cell, key, message);
        }
        else
        {
            // Other generations count down from -1, so they never equal a world step's sequence number (>= 0).
            var fired = new Fired(key, message, --_generation) { Owner = cell };
            generation = fired.Generation;
            timer = cell.System.Time.CreateTimer(static state => ((Fired)state!).Owner!.TellLocal(state!, null), fired, dueTime, period);
        }

        var added = new Entry(key, timer, generation, period != Timeout.InfiniteTimeSpan);
        if (_large is null && _count == SmallLimit)
        {
            _large = new Dictionary<object, Entry>(_count * 2);
            for (var index = 0; index < _count; index++)
            {
                _large[_timers[index].Key] = _timers[index];
            }
            _timers = [];
            _count = 0;
        }
        if (_large is not null)
        {
            _large[key] = added;
            return;
        }
        if (_count == _timers.Length)
        {
            Array.Resize(ref _timers, Math.Max(4, _count * 2));
        }
        _timers[_count++] = added;
    }

    private int IndexOf(object key)
    {
        for (var index = 0; index < _count; index++)
        {
            if (Equals(_timers[index].Key, key))
            {
                return index;
            }
        }
        return -1;
    }

    private void RemoveAt(int index)
    {
        // Order does not matter: move the last entry into the hole.
        _count--;
        _timers[index] = _timers[_count];
        _timers[_count] = default;
    }

    /// <summary>A pending timer; <paramref name="Timer"/> is null for a single timer under a world (see <see cref="Start"/>).</summary>
    private readonly record struct Entry(object Key, ITimer? Timer, long Generation, bool Periodic);

    internal sealed record Fired(object Key, object Message, long Generation)
    {
        public ActorCell? Owner { get; init; }
    }
}
