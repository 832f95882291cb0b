namespace Totoro.Actors.Ring;

/// <summary>Phi-accrual settings (Hayashibara et al.; the shape Akka and Cassandra use).</summary>
internal sealed record PhiAccrualSettings(
    double Threshold,
    int WindowSize,
    TimeSpan MinimumStandardDeviation,
    TimeSpan AcceptableHeartbeatPause,
    TimeSpan FirstHeartbeatEstimate)
{
    public static PhiAccrualSettings Default { get; } = new(
        Threshold: 8.0,
        WindowSize: 8,
        MinimumStandardDeviation: TimeSpan.FromMilliseconds(100),
        AcceptableHeartbeatPause: TimeSpan.FromMilliseconds(500),
        FirstHeartbeatEstimate: TimeSpan.FromSeconds(1));

    public void Validate()
    {
        if (!(Threshold > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "ring.failure-detector.threshold must be positive");
        }

        if (WindowSize is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(WindowSize), WindowSize, "ring.failure-detector.window must be in 1..1024");
        }

        if (MinimumStandardDeviation <= TimeSpan.Zero || FirstHeartbeatEstimate <= TimeSpan.Zero || AcceptableHeartbeatPause < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(FirstHeartbeatEstimate), "ring.failure-detector durations must be positive");
        }
    }
}

/// <summary>
/// Accrual failure detector for one monitored peer: heartbeat arrival times in, suspicion level phi(now) out.
/// phi = -log10(P(the next heartbeat arrives later than now)), inter-arrival times modelled as normal.
/// </summary>
/// <remarks>
/// An 8-byte value type, so a node's monitors live inline in one array (24 bytes per monitored leaf with its id).
/// The last arrival is kept in milliseconds modulo 2^32 and elapsed time is taken by wrapping subtraction, which is
/// exact for gaps under 49 days. Instead of a sliding window of samples it keeps an exponentially weighted mean and
/// standard deviation (half precision, in milliseconds) with smoothing 2/(window + 1), which weights the most
/// recent <see cref="PhiAccrualSettings.WindowSize"/> intervals most.
/// </remarks>
internal readonly record struct PhiAccrualDetector(uint LastArrivalMs, Half MeanMs, Half StandardDeviationMs)
{
    private const float LargestInterval = 60_000f;

    /// <summary>Starts monitoring at <paramref name="now"/> as if a heartbeat had just arrived, seeded with the first estimate.</summary>
    public static PhiAccrualDetector Start(TimeSpan now, PhiAccrualSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var estimate = Math.Min((float)settings.FirstHeartbeatEstimate.TotalMilliseconds, LargestInterval);
        return new PhiAccrualDetector(Milliseconds(now), (Half)estimate, (Half)(estimate / 4));
    }

    public PhiAccrualDetector Heartbeat(TimeSpan arrival, PhiAccrualSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var elapsed = ElapsedMs(arrival);
        if (elapsed <= 0)
        {
            return this;
        }

        var interval = Math.Min(elapsed, LargestInterval);
        var alpha = 2f / (settings.WindowSize + 1);
        var mean = (float)MeanMs;
        var deviation = (float)StandardDeviationMs;
        var delta = interval - mean;
        var variance = (1 - alpha) * ((deviation * deviation) + (alpha * delta * delta));
        return new PhiAccrualDetector(
            Milliseconds(arrival),
            (Half)Math.Min(mean + (alpha * delta), LargestInterval),
            (Half)Math.Min(MathF.Sqrt(variance), LargestInterval));
    }

    public double Phi(TimeSpan now, PhiAccrualSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var deviation = Math.Max((double)StandardDeviationMs, settings.MinimumStandardDeviation.TotalMilliseconds);
        var y = (ElapsedMs(now) - ((double)MeanMs + settings.AcceptableHeartbeatPause.TotalMilliseconds)) / deviation;

        // Logistic approximation of the normal CDF (error < 0.0002), evaluated on the numerically stable side.
        var e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
        return y > 0 ? -Math.Log10(e / (1.0 + e)) : -Math.Log10(1.0 - (1.0 / (1.0 + e)));
    }

    public bool IsAvailable(TimeSpan now, PhiAccrualSettings settings) => Phi(now, settings) < settings.Threshold;

    private static uint Milliseconds(TimeSpan time) => unchecked((uint)(time.Ticks / TimeSpan.TicksPerMillisecond));

    /// <summary>Milliseconds since the last arrival; negative when <paramref name="now"/> is earlier.</summary>
    private float ElapsedMs(TimeSpan now) => unchecked((int)(Milliseconds(now) - LastArrivalMs));
}
