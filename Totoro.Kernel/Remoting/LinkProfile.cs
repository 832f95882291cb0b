namespace Totoro.Kernel;

/// <summary>Latency, uniform jitter in [0, <see cref="Jitter"/>) and independent drop probability of a link.</summary>
public sealed record LinkProfile(TimeSpan Latency, TimeSpan Jitter = default, double DropProbability = 0)
{
    public static readonly LinkProfile Instant = new(TimeSpan.Zero);
}
