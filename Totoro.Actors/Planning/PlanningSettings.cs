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
/// Exponential weights fed by bandit estimates (HOCON <c>totoro.planning.game</c>). Each arm has a cost estimate:
/// an exponentially weighted mean of the costs observed when it was played (weight <see cref="EstimateWeight"/> on
/// the newest), and zero (optimistic) until first played; an unplayed arm's estimate shrinks by the factor 1 − <see cref="Forgetting"/> per round, so stale estimates get re-tested. Every round each known arm's cumulative
/// loss grows by its estimate ÷ the cost just observed, and pᵢ ∝ exp(−η Lᵢ) with η = <see cref="LearningRate"/>.
/// Sampling is lazy: the current arm is kept with probability min(1, pₜ/pₜ₋₁), so trees switch parents rarely.
/// </summary>
internal sealed record GameSettings(double LearningRate, double EstimateWeight, double Forgetting)
{
    public static GameSettings Default { get; } = new(LearningRate: 1.0, EstimateWeight: 0.5, Forgetting: 0);

    /// <summary>An untried arm's assumed cost: this much below the current arm's estimate.</summary>
    public double Optimism { get; init; } = 0.1;

    /// <summary>How far behind (in units of 1/η of cumulative loss) arms start, except the nearest at the first decision.</summary>
    public double InitialBias { get; init; } = 2;

    public GameSettings Validated()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "totoro.planning.game.learning-rate must be finite and > 0");
        }

        if (EstimateWeight is <= 0 or > 1 || double.IsNaN(EstimateWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(EstimateWeight), EstimateWeight, "totoro.planning.game.estimate-weight must be in (0, 1]");
        }

        if (Optimism is < 0 or >= 1 || InitialBias < 0 || double.IsNaN(Optimism) || double.IsNaN(InitialBias))
        {
            throw new ArgumentOutOfRangeException(nameof(Optimism), Optimism, "totoro.planning.game.optimism must be in [0, 1) and initial-bias ≥ 0");
        }

        if (Forgetting is < 0 or >= 1 || double.IsNaN(Forgetting))
        {
            throw new ArgumentOutOfRangeException(nameof(Forgetting), Forgetting, "totoro.planning.game.forgetting must be in [0, 1)");
        }

        return this;
    }
}

/// <summary>Path-planning settings (HOCON section <c>totoro.planning</c>).</summary>
internal sealed record PlanningSettings(BanditSettings Bandit, GameSettings Game)
{
    public static PlanningSettings Default { get; } = new(BanditSettings.Default, GameSettings.Default);

    public PlanningSettings Validated()
    {
        ArgumentNullException.ThrowIfNull(Bandit);
        ArgumentNullException.ThrowIfNull(Game);
        _ = Bandit.Validated();
        _ = Game.Validated();
        return this;
    }
}
