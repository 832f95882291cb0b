namespace Totoro.Kernel;

/// <summary>
/// One-for-one supervision: each failed child is decided on alone. Restarts beyond
/// <see cref="MaxRestarts"/> within <see cref="Window"/> stop the child; restarts wait an exponential
/// back-off from <see cref="MinBackoff"/> doubling up to <see cref="MaxBackoff"/>.
/// </summary>
public sealed record SupervisorStrategy(
    Func<Exception, Directive> Decider,
    int MaxRestarts = 10,
    TimeSpan? Window = null,
    TimeSpan MinBackoff = default,
    TimeSpan MaxBackoff = default)
{
    /// <summary>Restart on any exception except initialization failures, which stop the child; at most 10 restarts a minute.</summary>
    public static readonly SupervisorStrategy Default = new(DefaultDecider, MaxRestarts: 10, Window: TimeSpan.FromMinutes(1));

    public static readonly SupervisorStrategy Stopping = new(_ => Directive.Stop);

    public static Directive DefaultDecider(Exception exception) =>
        exception is ActorInitializationException ? Directive.Stop : Directive.Restart;

    public SupervisorStrategy WithBackoff(TimeSpan min, TimeSpan max) => this with { MinBackoff = min, MaxBackoff = max };

    /// <summary>The back-off before restart number <paramref name="restartNumber"/> (1-based).</summary>
    internal TimeSpan BackoffFor(int restartNumber)
    {
        if (MinBackoff <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }
        var cap = MaxBackoff > MinBackoff ? MaxBackoff : MinBackoff;
        var shift = Math.Min(restartNumber - 1, 30);
        var ticks = MinBackoff.Ticks * (1L << shift);
        return ticks <= 0 || ticks > cap.Ticks ? cap : TimeSpan.FromTicks(ticks);
    }
}
