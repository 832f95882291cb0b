using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Planning;

/// <summary>
/// Totoro+'s planner: every decision point is a learner in the congestion game among applications' flows and runs
/// exponential weights (Hedge) over its candidates, fed by bandit feedback: only the chosen arm's cost is observed;
/// the other arms enter Hedge's update with their last estimates (see <see cref="GameSettings"/> and
/// docs/planning.md for why the joint play approaches an ε-approximate Nash equilibrium). Sampling is lazy
/// (shrinking dartboard): the current arm is kept with probability min(1, pₜ(current) / pₜ₋₁(current)) and otherwise
/// redrawn from pₜ, which keeps each round's marginal pₜ while parents switch rarely once pₜ settles.
/// </summary>
internal sealed class GameTheoreticPlanner(GameSettings settings, Random random) : IPathPlanner
{
    private readonly GameSettings _settings = settings.Validated();
    private readonly Dictionary<DecisionPoint, PointState> _points = [];

    public string Name => "game";

    public PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        var state = State(point, candidates);
        var probabilities = Probabilities(state, candidates);
        var keptAt = state.Current is { } current ? IndexOfId(candidates, current) : -1;
        if (keptAt >= 0)
        {
            var keep = state.LastProbability > 0 ? Math.Min(1, probabilities[keptAt] / state.LastProbability) : 1;
            if (random.NextDouble() < keep)
            {
                return Remember(state, candidates[keptAt], probabilities[keptAt]);
            }
        }

        var roll = random.NextDouble();
        for (var i = 0; i < candidates.Length; i++)
        {
            roll -= probabilities[i];
            if (roll < 0)
            {
                return Remember(state, candidates[i], probabilities[i]);
            }
        }

        return Remember(state, candidates[^1], probabilities[^1]);
    }

    public PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        if (candidates.IsDefaultOrEmpty)
        {
            throw new ArgumentException("No candidates to choose from.", nameof(candidates));
        }

        if (!_points.TryGetValue(point, out var state) || state.Arms.Count == 0)
        {
            return StaticPlanner.Instance.Preferred(point, candidates);
        }

        var floor = state.Arms.Values.Min(arm => arm.Loss);
        var best = candidates[0];
        var bestLoss = state.Arms.GetValueOrDefault(best.Id)?.Loss ?? floor;
        foreach (var candidate in candidates)
        {
            var loss = state.Arms.GetValueOrDefault(candidate.Id)?.Loss ?? floor;
            if (loss < bestLoss)
            {
                best = candidate;
                bestLoss = loss;
            }
        }

        return best;
    }

    public void Observe(DecisionPoint point, NodeId chosen, double cost)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        if (!_points.TryGetValue(point, out var state) || state.Current != chosen || !state.Arms.TryGetValue(chosen, out var played))
        {
            return;
        }

        played.Estimate = played.Estimate is { } previous ? ((1 - _settings.EstimateWeight) * previous) + (_settings.EstimateWeight * cost) : cost;
        if (cost <= 0)
        {
            return;
        }

        // An arm never played is assumed a little better than the current one, so candidates get tried one by one,
        // staggered over rounds, while the rest of the trees stay put; estimates of arms not played shrink toward 0.
        var untried = (1 - _settings.Optimism) * played.Estimate.Value;
        foreach (var arm in state.Arms.Values)
        {
            arm.Loss += (arm.Estimate ?? untried) / cost;
            if (arm != played && arm.Estimate is { } stale)
            {
                arm.Estimate = stale * (1 - _settings.Forgetting);
            }
        }
    }

    /// <summary>The current distribution over <paramref name="candidates"/> (for tests and reports).</summary>
    internal double[] Distribution(DecisionPoint point, ImmutableArray<PeerEntry> candidates) =>
        Probabilities(State(point, candidates), candidates);

    private double[] Probabilities(PointState state, ImmutableArray<PeerEntry> candidates)
    {
        var floor = candidates.Min(candidate => state.Arms[candidate.Id].Loss);
        var weights = new double[candidates.Length];
        var total = 0.0;
        for (var i = 0; i < candidates.Length; i++)
        {
            weights[i] = Math.Exp(-_settings.LearningRate * (state.Arms[candidates[i].Id].Loss - floor));
            total += weights[i];
        }

        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= total;
        }

        return weights;
    }

    /// <summary>The point's state, with arms seen for the first time added at the lowest cumulative loss (so they get tried).</summary>
    private PointState State(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        if (candidates.IsDefaultOrEmpty)
        {
            throw new ArgumentException("No candidates to choose from.", nameof(candidates));
        }

        if (!_points.TryGetValue(point, out var state))
        {
            state = new PointState();
            _points[point] = state;
        }

        // The first time, the nearest candidate leads (today's choice); other and later arms start behind by a bias.
        var start = state.Arms.Count == 0 ? 0 : state.Arms.Values.Min(arm => arm.Loss);
        var nearest = state.Arms.Count == 0 ? StaticPlanner.Instance.Preferred(point, candidates).Id : (NodeId?)null;
        foreach (var candidate in candidates)
        {
            state.Arms.TryAdd(candidate.Id, new ArmState { Loss = start + (candidate.Id == nearest ? 0 : _settings.InitialBias / _settings.LearningRate) });
        }

        return state;
    }

    private static PeerEntry Remember(PointState state, PeerEntry chosen, double probability)
    {
        state.Current = chosen.Id;
        state.LastProbability = probability;
        return chosen;
    }

    private static int IndexOfId(ImmutableArray<PeerEntry> candidates, NodeId id)
    {
        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].Id == id)
            {
                return i;
            }
        }

        return -1;
    }

    private sealed class ArmState
    {
        public double Loss { get; set; }

        public double? Estimate { get; set; }
    }

    private sealed class PointState
    {
        public Dictionary<NodeId, ArmState> Arms { get; } = [];

        public NodeId? Current { get; set; }

        public double LastProbability { get; set; }
    }
}
