using System.Collections.Immutable;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Sim;

/// <summary>Parameters of one <c>totoro sim planning</c> run.</summary>
/// <param name="Heterogeneity">H ∈ [0, 1]: 0 gives every access link 10/20 Mbit/s; 1 spreads uplinks over 1–100 Mbit/s, skewed slow.</param>
/// <param name="EpsilonEvery">Measure ε every this many rounds (the last round is always measured).</param>
internal sealed record PlanningSimOptions(int Nodes, int Apps, double Heterogeneity, int Rounds, int Seed)
{
    public int CandidatesPerSlot { get; init; } = 4;

    public int FanOutCap { get; init; } = 16;

    /// <summary>Largest application's model, bytes; app k (0-based) sends <see cref="ModelBytes"/> · (k+1)^−<see cref="LoadSkew"/>.</summary>
    public double ModelBytes { get; init; } = 20e6;

    /// <summary>Zipf exponent of the load across apps: model size and subscriber count both fall as (k+1)^−s.</summary>
    public double LoadSkew { get; init; } = 0.7;

    /// <summary>Share of the nodes subscribed to the largest app.</summary>
    public double TopAppShare { get; init; } = 0.25;

    public int EpsilonEvery { get; init; } = 1;

    /// <summary>Bytes of one probe transfer (each way), charged to the links in the round after it was requested.</summary>
    public double ProbeBytes { get; init; } = 256 * 1024;

    /// <summary>Relative standard deviation of a probe's cost measurement (Gaussian, clamped at 0).</summary>
    public double ProbeNoise { get; init; }

    public PlanningSettings Planning { get; init; } = PlanningSettings.Default;

    public PlanningSimOptions Validated()
    {
        if (Nodes < 20)
        {
            throw new ArgumentOutOfRangeException(nameof(Nodes), Nodes, "--nodes must be ≥ 20");
        }

        if (Apps is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(Apps), Apps, "--apps must be in [1, 1000]");
        }

        if (Heterogeneity is < 0 or > 1 || double.IsNaN(Heterogeneity))
        {
            throw new ArgumentOutOfRangeException(nameof(Heterogeneity), Heterogeneity, "--heterogeneity must be in [0, 1]");
        }

        if (Rounds < 1 || EpsilonEvery < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Rounds), Rounds, "--rounds and --epsilon-every must be ≥ 1");
        }

        if (CandidatesPerSlot is < 1 or > 16 || FanOutCap < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(FanOutCap), FanOutCap, "--candidates must be in [1, 16] and --fan-out-cap ≥ 2");
        }

        if (!(ModelBytes > 0) || LoadSkew is < 0 or > 4 || TopAppShare is <= 0 or > 1 || double.IsNaN(LoadSkew) || double.IsNaN(TopAppShare))
        {
            throw new ArgumentOutOfRangeException(nameof(ModelBytes), "model bytes must be > 0, load skew in [0, 4], top-app share in (0, 1]");
        }

        if (!(ProbeBytes >= 0) || double.IsInfinity(ProbeBytes) || ProbeNoise is < 0 or > 1 || double.IsNaN(ProbeNoise))
        {
            throw new ArgumentOutOfRangeException(nameof(ProbeBytes), "--probe-bytes must be finite and ≥ 0, --probe-noise in [0, 1]");
        }

        _ = Planning.Validated();
        return this;
    }
}

/// <summary>
/// Per-node access-link capacities for the planning simulator, in bits per second. Uplink: log₁₀(Mbit/s) =
/// 1 + H·(2x − 1) with x = u^(1+H), u uniform, so H = 0 gives 10 Mbit/s everywhere and H = 1 spreads 1–100 Mbit/s
/// with the median near 3 Mbit/s (most edge devices slow, a few fast). Downlink: an independent draw of the same
/// law, at least the uplink. Immutable.
/// </summary>
internal sealed record PlanningLinks(ImmutableArray<double> UplinkBitsPerSecond, ImmutableArray<double> DownlinkBitsPerSecond)
{
    public static PlanningLinks Generate(int nodes, double heterogeneity, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var up = new double[nodes];
        var down = new double[nodes];
        for (var node = 0; node < nodes; node++)
        {
            up[node] = Draw(heterogeneity, random);
            down[node] = Math.Max(up[node], Draw(heterogeneity, random));
        }

        return new PlanningLinks([.. up], [.. down]);
    }

    private static double Draw(double heterogeneity, Random random)
    {
        var x = Math.Pow(random.NextDouble(), 1 + heterogeneity);
        return Math.Pow(10, 1 + (heterogeneity * ((2 * x) - 1))) * 1e6;
    }
}

/// <summary>One application: its tree's key, root, subscribers and the bytes each tree edge carries per phase.</summary>
internal sealed record PlanningApp(int Index, NodeId Key, int Root, double ModelBytes, ImmutableArray<int> Subscribers);
