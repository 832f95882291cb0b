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
/// A 16-byte value type so that a node's monitors live inline in one array. Instead of a sliding window of
/// samples it keeps an exponentially weighted mean and variance with smoothing 2/(window + 1), which weights
/// the most recent <see cref="PhiAccrualSettings.WindowSize"/> intervals most (the usual EWMA-window equivalence).
/// </remarks>
internal readonly record struct PhiAccrualDetector(long LastArrivalTicks, float MeanMs, float VarianceMs2)
{
    public TimeSpan LastArrival => TimeSpan.FromTicks(LastArrivalTicks);

    /// <summary>Starts monitoring at <paramref name="now"/> as if a heartbeat had just arrived, seeded with the first estimate.</summary>
    public static PhiAccrualDetector Start(TimeSpan now, PhiAccrualSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var estimate = (float)settings.FirstHeartbeatEstimate.TotalMilliseconds;
        return new PhiAccrualDetector(now.Ticks, estimate, estimate / 4 * (estimate / 4));
    }

    public PhiAccrualDetector Heartbeat(TimeSpan arrival, PhiAccrualSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (arrival.Ticks <= LastArrivalTicks)
        {
            return this;
        }

        var interval = (float)(arrival - LastArrival).TotalMilliseconds;
        var alpha = 2f / (settings.WindowSize + 1);
        var delta = interval - MeanMs;
        var mean = MeanMs + (alpha * delta);
        var variance = (1 - alpha) * (VarianceMs2 + (alpha * delta * delta));
        return new PhiAccrualDetector(arrival.Ticks, mean, variance);
    }

    public double Phi(TimeSpan now, PhiAccrualSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var deviation = Math.Max(Math.Sqrt(VarianceMs2), settings.MinimumStandardDeviation.TotalMilliseconds);
        var elapsed = (now - LastArrival).TotalMilliseconds;
        var y = (elapsed - (MeanMs + settings.AcceptableHeartbeatPause.TotalMilliseconds)) / deviation;

        // Logistic approximation of the normal CDF (error < 0.0002), evaluated on the numerically stable side.
        var e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
        return y > 0 ? -Math.Log10(e / (1.0 + e)) : -Math.Log10(1.0 - (1.0 / (1.0 + e)));
    }

    public bool IsAvailable(TimeSpan now, PhiAccrualSettings settings) => Phi(now, settings) < settings.Threshold;
}
