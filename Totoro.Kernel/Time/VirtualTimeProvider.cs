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

    private sealed class VirtualTimer : ITimer
    {
        private readonly DeterministicWorld _world;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private readonly Action<object?> _fire;
        private long _generation;
        private TimeSpan _period;
        private bool _disposed;

        public VirtualTimer(DeterministicWorld world, TimerCallback callback, object? state)
        {
            _world = world;
            _callback = callback;
            _state = state;
            _fire = Fire;
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed)
            {
                return false;
            }
            _generation++;
            _period = period;
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                _world.Schedule(dueTime, _fire, _generation);
            }
            return true;
        }

        public void Dispose()
        {
            _disposed = true;
            _generation++;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void Fire(object? generation)
        {
            if (_disposed || (long)generation! != _generation)
            {
                return;
            }
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
            {
                _world.Schedule(_period, _fire, _generation);
            }
            _callback(_state);
        }
    }
}
