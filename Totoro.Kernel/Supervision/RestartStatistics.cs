namespace Totoro.Kernel;

/// <summary>Per-child restart bookkeeping kept by the parent: restarts counted inside the strategy's window.</summary>
internal sealed class RestartStatistics
{
    private int _count;
    private long _windowStart;

    /// <summary>Records one more restart; returns its number, or 0 if the limit is exceeded.</summary>
    public int Record(SupervisorStrategy strategy, long nowTicks)
    {
        if (strategy.Window is { } window && nowTicks - _windowStart > window.Ticks)
        {
            _windowStart = nowTicks;
            _count = 0;
        }
        _count++;
        return _count > strategy.MaxRestarts ? 0 : _count;
    }
}
