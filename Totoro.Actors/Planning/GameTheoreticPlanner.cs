using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Planning;

/// <summary>
/// Totoro+'s planner: every decision point is a learner in the congestion game among applications' flows and runs
/// exponential weights with bandit feedback (EXP3 with implicit exploration), a no-regret rule; see
/// docs/planning.md for why the joint play approaches an ε-approximate Nash equilibrium. Arms seen for the first
/// time start at the lowest loss estimate of the point (optimism, so they get tried). Sampling is lazy
/// (shrinking dartboard): the current arm is kept with probability min(1, pₜ(current) / pₜ₋₁(current)) and
/// otherwise redrawn from pₜ, which keeps each round's marginal ≈ pₜ while parents switch rarely once pₜ settles.
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

        if (!_points.TryGetValue(point, out var state))
        {
            return StaticPlanner.Instance.Preferred(point, candidates);
        }

        var floor = state.Losses.Count == 0 ? 0 : state.Losses.Values.Min();
        var best = candidates[0];
        var bestLoss = state.Losses.GetValueOrDefault(best.Id, floor);
        foreach (var candidate in candidates)
        {
            var loss = state.Losses.GetValueOrDefault(candidate.Id, floor);
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
        if (!_points.TryGetValue(point, out var state) || state.Current != chosen)
        {
            return;
        }

        state.Scale = Math.Max(state.Scale, cost);
        var loss = state.Scale > 0 ? cost / state.Scale : 0;
        state.Losses[chosen] = state.Losses.GetValueOrDefault(chosen) + (loss / (state.LastProbability + _settings.ImplicitExploration));
    }

    /// <summary>The current distribution over <paramref name="candidates"/> (for tests and reports).</summary>
    internal double[] Distribution(DecisionPoint point, ImmutableArray<PeerEntry> candidates) =>
        Probabilities(State(point, candidates), candidates);

    private double[] Probabilities(PointState state, ImmutableArray<PeerEntry> candidates)
    {
        var floor = candidates.Min(candidate => state.Losses[candidate.Id]);
        var weights = new double[candidates.Length];
        var total = 0.0;
        for (var i = 0; i < candidates.Length; i++)
        {
            weights[i] = Math.Exp(-_settings.LearningRate * (state.Losses[candidates[i].Id] - floor));
            total += weights[i];
        }

        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= total;
        }

        return weights;
    }

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

        var floor = state.Losses.Count == 0 ? 0 : state.Losses.Values.Min();
        foreach (var candidate in candidates)
        {
            state.Losses.TryAdd(candidate.Id, floor);
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

    private sealed class PointState
    {
        public Dictionary<NodeId, double> Losses { get; } = [];

        public NodeId? Current { get; set; }

        public double LastProbability { get; set; }

        public double Scale { get; set; }
    }
}
