namespace Totoro.Kernel;

/// <summary>The deterministic world's clock as a <see cref="TimeProvider"/>: timers are world steps, time moves only when the world runs.</summary>
public sealed class VirtualTimeProvider : TimeProvider
{
    private readonly DeterministicWorld _world;
    private readonly DateTimeOffset _epoch;

    internal VirtualTimeProvider(DeterministicWorld world, DateTimeOffset epoch)
    {
        _world = world;
        _epoch = epoch;
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    internal DeterministicWorld World => _world;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => _epoch + _world.Elapsed;

    public override long GetTimestamp() => _world.ElapsedTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(_world, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>
    /// A timer is one pending world step at a time; the step's sequence number doubles as the timer's generation, so a
    /// reschedule or dispose makes the older step a no-op without a delegate or a boxed generation per timer.
    /// </summary>
    private sealed class VirtualTimer : ITimer, IWorldTimer
    {
        private readonly DeterministicWorld _world;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private long _pendingSeq = -1;
        private TimeSpan _period;
        private bool _disposed;

        public VirtualTimer(DeterministicWorld world, TimerCallback callback, object? state)
        {
            _world = world;
            _callback = callback;
            _state = state;
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed)
            {
                return false;
            }
            _period = period;
            _pendingSeq = dueTime != Timeout.InfiniteTimeSpan ? _world.ScheduleTimer(dueTime, this) : -1;
            return true;
        }

        public void Dispose()
        {
            _disposed = true;
            _pendingSeq = -1;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        public void Fire(long seq)
        {
            if (_disposed || seq != _pendingSeq)
            {
                return;
            }
            _pendingSeq = _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? _world.ScheduleTimer(_period, this) : -1;
            _callback(_state);
        }
    }
}
