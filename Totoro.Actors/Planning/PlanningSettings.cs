namespace Totoro.Actors.Planning;

/// <summary>
/// Discounted UCB (HOCON <c>totoro.planning.bandit</c>). Costs are minimized; an arm's index is its discounted mean
/// cost minus <see cref="Exploration"/> · scale · √(ln n / nᵢ), where n, nᵢ are discounted counts (factor
/// <see cref="Discount"/> per observation) and scale is the largest cost seen at the point. The planner leaves its
/// current arm only for one whose index is lower by more than <see cref="Hysteresis"/> (relative).
/// </summary>
internal sealed record BanditSettings(double Discount, double Exploration, double Hysteresis)
{
    public static BanditSettings Default { get; } = new(Discount: 0.99, Exploration: 0.25, Hysteresis: 0.1);

    public BanditSettings Validated()
    {
        if (Discount is <= 0 or > 1 || double.IsNaN(Discount))
        {
            throw new ArgumentOutOfRangeException(nameof(Discount), Discount, "totoro.planning.bandit.discount must be in (0, 1]");
        }

        if (!(Exploration >= 0) || double.IsInfinity(Exploration))
        {
            throw new ArgumentOutOfRangeException(nameof(Exploration), Exploration, "totoro.planning.bandit.exploration must be finite and ≥ 0");
        }

        if (Hysteresis is < 0 or >= 1 || double.IsNaN(Hysteresis))
        {
            throw new ArgumentOutOfRangeException(nameof(Hysteresis), Hysteresis, "totoro.planning.bandit.hysteresis must be in [0, 1)");
        }

        return this;
    }
}

/// <summary>
/// Committed-profile better-response dynamics with probes and inertia (HOCON <c>totoro.planning.game</c>). Every
/// decision point keeps a committed parent (the tree that carries the model) and estimates alternatives by probes
/// that do not perturb it. After round t a point probes with probability max(<see cref="MinProbeRate"/>,
/// <see cref="ProbeRate"/> / (1 + <see cref="ProbeDecay"/>·t)), the alternative with the lowest optimistic (UCB)
/// estimate ĉᵢ − <see cref="Exploration"/>·ĉ_committed·√(ln(1+N)/nᵢ) (untried first; probe counts nᵢ decay by <see cref="ProbeMemory"/> per round, so
/// stale estimates get retried). Probe results are kept relative to the committed cost of the same round and averaged
/// with weight <see cref="EstimateWeight"/> on the newest; the older average's weight also decays by
/// <see cref="ProbeMemory"/> per round since it was probed, so a reading from long ago hardly counts. Before probing, an inertia coin comes up with probability
/// <see cref="Inertia"/> / (1 + <see cref="InertiaDecay"/>·recent switches); if it does, a better-looking but older
/// estimate is re-probed to verify it, and the point switches to its best alternative if that was probed after the
/// last round and is better by more than <see cref="Threshold"/> (relative). If it does not, the point explores.
/// </summary>
internal sealed record GameSettings(double Inertia, double Threshold, double ProbeRate)
{
    public static GameSettings Default { get; } = new(Inertia: 0.25, Threshold: 0.005, ProbeRate: 1.0);

    /// <summary>A point that has switched k times takes a verified better response with probability p / (1 + decay·k), so flip-flopping players settle.</summary>
    public double InertiaDecay { get; init; } = 0.25;

    /// <summary>Per-round discount of the switch count k in the inertia, so a point that switched often long ago is not frozen.</summary>
    public double SwitchMemory { get; init; } = 0.95;

    /// <summary>Per-round decay of the probe probability (harmonic: rate / (1 + decay·t)).</summary>
    public double ProbeDecay { get; init; } = 0.05;

    /// <summary>The probe probability never falls below this (drift is still noticed).</summary>
    public double MinProbeRate { get; init; } = 0.3;

    /// <summary>UCB bonus scale for choosing what to probe, relative to the committed arm's cost.</summary>
    public double Exploration { get; init; } = 0.5;

    /// <summary>Per-round discount of an alternative's probe count, so stale estimates regain their UCB bonus and get retried.</summary>
    public double ProbeMemory { get; init; } = 0.95;

    /// <summary>Weight of the newest probe result in an alternative's estimate (the rest, discounted by <see cref="ProbeMemory"/> per round of age, stays on the older average).</summary>
    public double EstimateWeight { get; init; } = 0.5;

    public GameSettings Validated()
    {
        Check(Inertia is > 0 and <= 1, nameof(Inertia), Inertia, "totoro.planning.game.inertia must be in (0, 1]");
        Check(Threshold is >= 0 and < 1, nameof(Threshold), Threshold, "totoro.planning.game.threshold must be in [0, 1)");
        Check(ProbeRate is >= 0 and <= 1, nameof(ProbeRate), ProbeRate, "totoro.planning.game.probe-rate must be in [0, 1]");
        Check(InertiaDecay is >= 0 && !double.IsInfinity(InertiaDecay), nameof(InertiaDecay), InertiaDecay, "totoro.planning.game.inertia-decay must be finite and ≥ 0");
        Check(ProbeDecay is >= 0 && !double.IsInfinity(ProbeDecay), nameof(ProbeDecay), ProbeDecay, "totoro.planning.game.probe-decay must be finite and ≥ 0");
        Check(MinProbeRate >= 0 && MinProbeRate <= ProbeRate, nameof(MinProbeRate), MinProbeRate, "totoro.planning.game.min-probe-rate must be in [0, probe-rate]");
        Check(Exploration >= 0 && !double.IsInfinity(Exploration), nameof(Exploration), Exploration, "totoro.planning.game.exploration must be finite and ≥ 0");
        Check(ProbeMemory is > 0 and <= 1, nameof(ProbeMemory), ProbeMemory, "totoro.planning.game.probe-memory must be in (0, 1]");
        Check(SwitchMemory is > 0 and <= 1, nameof(SwitchMemory), SwitchMemory, "totoro.planning.game.switch-memory must be in (0, 1]");
        Check(EstimateWeight is > 0 and <= 1, nameof(EstimateWeight), EstimateWeight, "totoro.planning.game.estimate-weight must be in (0, 1]");
        return this;
    }

    private static void Check(bool valid, string name, double value, string message)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, message);
        }
    }
}

/// <summary>Path-planning settings (HOCON section <c>totoro.planning</c>).</summary>
internal sealed record PlanningSettings(BanditSettings Bandit, GameSettings Game)
{
    /// <summary>Default of <see cref="MaxDecisionPoints"/>.</summary>
    public const int DefaultMaxDecisionPoints = 4096;

    public static PlanningSettings Default { get; } = new(BanditSettings.Default, GameSettings.Default);

    /// <summary>Most routed keys a live node's ring planner keeps state for (<c>totoro.planning.max-decision-points</c>); the least recently routed is forgotten.</summary>
    public int MaxDecisionPoints { get; init; } = DefaultMaxDecisionPoints;

    public PlanningSettings Validated()
    {
        ArgumentNullException.ThrowIfNull(Bandit);
        ArgumentNullException.ThrowIfNull(Game);
        _ = Bandit.Validated();
        _ = Game.Validated();
        if (MaxDecisionPoints < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDecisionPoints), MaxDecisionPoints, "totoro.planning.max-decision-points must be at least 1");
        }

        return this;
    }
}
