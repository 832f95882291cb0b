using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Planning;

/// <summary>
/// Totoro's bandit planner: per decision point, discounted UCB over the candidates' observed costs (lower is
/// better), with switching hysteresis. Deterministic: exploration comes from the confidence bonus, which grows for
/// arms not tried lately because their discounted count decays. Untried arms are tried first, nearest first.
/// </summary>
internal sealed class BanditPlanner(BanditSettings settings) : IPathPlanner
{
    private readonly BanditSettings _settings = settings.Validated();
    private readonly Dictionary<DecisionPoint, PointStats> _points = [];

    public string Name => "bandit";

    public PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        var chosen = Select(point, candidates);
        Stats(point).Current = chosen.Id;
        return chosen;
    }

    public PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates) => Select(point, candidates);

    public void Forget(DecisionPoint point) => _points.Remove(point);

    public void Observe(DecisionPoint point, NodeId chosen, double cost)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        var stats = Stats(point);
        foreach (var arm in stats.Arms.Values)
        {
            arm.Count *= _settings.Discount;
            arm.Sum *= _settings.Discount;
        }

        if (!stats.Arms.TryGetValue(chosen, out var played))
        {
            played = new ArmStats();
            stats.Arms[chosen] = played;
        }

        played.Count += 1;
        played.Sum += cost;
        stats.Scale = Math.Max(stats.Scale, cost);
    }

    /// <summary>The arm's UCB index for minimization; −∞ for an arm never observed here.</summary>
    internal double Index(DecisionPoint point, NodeId arm)
    {
        if (!_points.TryGetValue(point, out var stats) || !stats.Arms.TryGetValue(arm, out var played) || played.Count <= 0)
        {
            return double.NegativeInfinity;
        }

        var total = stats.Arms.Values.Sum(a => a.Count);
        var bonus = _settings.Exploration * stats.Scale * Math.Sqrt(Math.Log(Math.Max(total, 1.0 + 1e-9)) / played.Count);
        return (played.Sum / played.Count) - bonus;
    }

    private PeerEntry Select(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        if (candidates.IsDefaultOrEmpty)
        {
            throw new ArgumentException("No candidates to choose from.", nameof(candidates));
        }

        var untried = candidates.Where(c => Index(point, c.Id) == double.NegativeInfinity).ToImmutableArray();
        if (!untried.IsEmpty)
        {
            return StaticPlanner.Instance.Preferred(point, untried);
        }

        var best = candidates[0];
        var bestIndex = Index(point, best.Id);
        foreach (var candidate in candidates)
        {
            var index = Index(point, candidate.Id);
            if (index < bestIndex)
            {
                best = candidate;
                bestIndex = index;
            }
        }

        var stats = _points[point];
        var keptAt = stats.Current is { } current ? IndexOfId(candidates, current) : -1;
        if (keptAt >= 0 && candidates[keptAt].Id != best.Id)
        {
            var currentIndex = Index(point, candidates[keptAt].Id);
            var margin = _settings.Hysteresis * Math.Max(Math.Abs(currentIndex), stats.Scale * 1e-3);
            if (bestIndex > currentIndex - margin)
            {
                return candidates[keptAt];
            }
        }

        return best;
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

    private PointStats Stats(DecisionPoint point)
    {
        if (!_points.TryGetValue(point, out var stats))
        {
            stats = new PointStats();
            _points[point] = stats;
        }

        return stats;
    }

    private sealed class ArmStats
    {
        public double Count { get; set; }

        public double Sum { get; set; }
    }

    private sealed class PointStats
    {
        public Dictionary<NodeId, ArmStats> Arms { get; } = [];

        public NodeId? Current { get; set; }

        public double Scale { get; set; }
    }
}
