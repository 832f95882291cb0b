using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Planning;

/// <summary>
/// A planner that can also measure alternatives without using them: after a round, a point may send a small probe
/// over one candidate link (RTT + bandwidth, plus the candidate's cost to the root in the reply) while its committed
/// choice keeps carrying the traffic. The result estimates what the point would pay if it switched alone.
/// </summary>
internal interface IProbingPlanner : IPathPlanner
{
    /// <summary>The alternative to probe now (never the committed one), or null for no probe this round.</summary>
    PeerEntry? ProbeTarget(DecisionPoint point, ImmutableArray<PeerEntry> candidates);

    /// <summary>A probe of <paramref name="probed"/> estimated its cost at <paramref name="cost"/> (s; +∞ = unusable now).</summary>
    void ObserveProbe(DecisionPoint point, NodeId probed, double cost);
}

/// <summary>
/// Totoro+'s planner: every decision point is a player of the congestion game among applications' flows and runs
/// ε-better-response dynamics with inertia on a committed profile (see <see cref="GameSettings"/>, docs/planning.md).
/// The committed choice is today's proximity choice at first; it changes only when a fresh probe shows an alternative
/// cheaper by more than the threshold δ, and then only if an inertia coin (probability p / (1 + decay·recent switches),
/// tossed before probing, so a held-back point still explores) came up, so simultaneous moves are rare and the potential falls. Probes never change what carries traffic, so exploration does not perturb the profile.
/// </summary>
internal sealed class GameTheoreticPlanner(GameSettings settings, Random random) : IProbingPlanner
{
    private readonly GameSettings _settings = settings.Validated();
    private readonly Dictionary<DecisionPoint, PointState> _points = [];

    public string Name => "game";

    public void Forget(DecisionPoint point) => _points.Remove(point);

    public PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        var state = State(point, candidates);
        var committed = Committed(state, point, candidates);
        // A probe is fresh if it followed the last observed round; a point that was not in the tree last round
        // (no observation since its previous choice) has no fresh probes.
        var observedSinceLastChoice = state.ChosenAt != state.Round;
        state.ChosenAt = state.Round;
        var move = state.Move;
        state.Move = false;
        if (move && observedSinceLastChoice && state.Committed == committed.Id && Best(state, candidates, committed.Id, freshAt: state.Round) is { } best &&
            Gains(state, best.Id, committed.Id))
        {
            committed = best;
            state.Switches++;
        }

        if (state.Committed != committed.Id)
        {
            state.Committed = committed.Id;
            state.CommittedCost = state.Arms[committed.Id].Estimate;
        }

        return committed;
    }

    public PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        if (candidates.IsDefaultOrEmpty)
        {
            throw new ArgumentException("No candidates to choose from.", nameof(candidates));
        }

        return _points.TryGetValue(point, out var state) ? Committed(state, point, candidates) : StaticPlanner.Instance.Preferred(point, candidates);
    }

    /// <summary>The committed choice's cost is measured on the real transfer every round, so the newest value is used.</summary>
    public void Observe(DecisionPoint point, NodeId chosen, double cost)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        if (_points.TryGetValue(point, out var state) && state.Committed == chosen)
        {
            state.CommittedCost = cost;
            state.Round++;
            state.Switches *= _settings.SwitchMemory;
        }
    }

    public PeerEntry? ProbeTarget(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        if (!_points.TryGetValue(point, out var state) || state.Committed is not { } committed || state.CommittedCost is not { } own || candidates.Length < 2)
        {
            return null;
        }

        State(point, candidates);

        // Inertia, tossed before probing: with probability p / (1 + decay·recent switches) the point may move at its
        // next choice (to its best fresh alternative, if that gains more than δ); a better-looking but older estimate
        // is then re-probed to verify it. Otherwise the point explores as usual: one that inertia holds back keeps
        // probing its other candidates instead of re-verifying the same alternative every round.
        state.Move = random.NextDouble() < _settings.Inertia / (1 + (_settings.InertiaDecay * state.Switches));
        if (state.Move && Best(state, candidates, committed) is { } best && state.Arms[best.Id].ProbedAt != state.Round && Gains(state, best.Id, committed))
        {
            return best;
        }

        var rate = Math.Max(_settings.MinProbeRate, _settings.ProbeRate / (1 + (_settings.ProbeDecay * state.Round)));
        if (random.NextDouble() >= rate)
        {
            return null;
        }

        PeerEntry? target = null;
        var lowest = double.PositiveInfinity;
        var total = candidates.Sum(candidate => Weight(state, state.Arms[candidate.Id]));
        foreach (var candidate in candidates.OrderBy(c => c, Comparer<PeerEntry>.Create(RoutingTable.CompareByProximity)))
        {
            var arm = state.Arms[candidate.Id];
            if (candidate.Id == committed)
            {
                continue;
            }

            if (arm.Probes == 0)
            {
                return candidate;
            }

            var current = Current(state, arm)!.Value;
            var estimate = double.IsPositiveInfinity(current) ? 10 * own : current;
            var index = estimate - (_settings.Exploration * own * Math.Sqrt(Math.Log(1 + total) / Math.Max(1e-9, Weight(state, arm))));
            if (index < lowest)
            {
                (target, lowest) = (candidate, index);
            }
        }

        return target;
    }

    public void ObserveProbe(DecisionPoint point, NodeId probed, double cost)
    {
        if (double.IsNaN(cost) || cost < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cost), cost, "a probe's cost must be ≥ 0 (or +∞ for unusable)");
        }

        if (!_points.TryGetValue(point, out var state) || !state.Arms.TryGetValue(probed, out var arm))
        {
            return;
        }

        // The older reading keeps weight (1 − w)·ProbeMemory^age: the same per-round discount as the arm's probe
        // count. A reading from many rounds ago describes another profile; averaging it in at full weight held a
        // stale high estimate for hundreds of rounds (seed 1 of sim planning: a 990 s alternative read as 1,683 s
        // after one fresh probe, because the previous one was 70 rounds old).
        var keep = (1 - _settings.EstimateWeight) * Math.Pow(_settings.ProbeMemory, state.Round - arm.ProbedAt);
        arm.Estimate = arm.Estimate is { } previous && !double.IsInfinity(previous) && !double.IsInfinity(cost)
            ? (keep * previous) + ((1 - keep) * cost)
            : cost;
        if (state.CommittedCost is { } own && own > 0)
        {
            var ratio = cost / own;
            arm.Relative = arm.RelativeTo == state.Committed && arm.Relative is { } before && !double.IsInfinity(before) && !double.IsInfinity(ratio)
                ? (keep * before) + ((1 - keep) * ratio)
                : ratio;
            arm.RelativeTo = state.Committed;
        }

        arm.Probes = Weight(state, arm) + 1;
        arm.ProbedAt = state.Round;
    }

    /// <summary>The committed choice at <paramref name="point"/>, if it has one (for tests and reports).</summary>
    internal NodeId? CommittedAt(DecisionPoint point) => _points.TryGetValue(point, out var state) ? state.Committed : null;

    private bool Gains(PointState state, NodeId alternative, NodeId committed) =>
        state.CommittedCost is { } own && Current(state, state.Arms[alternative]) is { } other && state.Committed == committed &&
        other < (1 - _settings.Threshold) * own;

    /// <summary>
    /// An alternative's estimated cost now: its probed cost relative to the committed cost of the same round, times
    /// the committed cost now (drift on the shared path to the root, which moves both, cancels), or the absolute
    /// estimate if it was probed against another committed choice.
    /// </summary>
    private static double? Current(PointState state, ArmState arm) =>
        arm.Relative is { } ratio && arm.RelativeTo == state.Committed && state.CommittedCost is { } own ? ratio * own : arm.Estimate;

    /// <summary>An arm's probe count, discounted by <see cref="GameSettings.ProbeMemory"/> per round since its last probe.</summary>
    private double Weight(PointState state, ArmState arm) =>
        arm.Probes == 0 ? 0 : arm.Probes * Math.Pow(_settings.ProbeMemory, state.Round - arm.ProbedAt);

    /// <summary>The alternative (not <paramref name="exclude"/>) with the lowest finite probe estimate (probed in round <paramref name="freshAt"/>, if given), or null.</summary>
    private PeerEntry? Best(PointState state, ImmutableArray<PeerEntry> candidates, NodeId exclude, int? freshAt = null)
    {
        PeerEntry? best = null;
        var lowest = double.PositiveInfinity;
        foreach (var candidate in candidates)
        {
            if (candidate.Id != exclude && state.Arms.TryGetValue(candidate.Id, out var arm) && Current(state, arm) is { } estimate && estimate < lowest &&
                (freshAt is null || arm.ProbedAt == freshAt))
            {
                (best, lowest) = (candidate, estimate);
            }
        }

        return best;
    }

    /// <summary>The committed candidate; if it is no longer valid (or there is none yet), the best probed one, else the nearest.</summary>
    private PeerEntry Committed(PointState state, DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (candidate.Id == state.Committed)
            {
                return candidate;
            }
        }

        return (state.Committed is { } gone ? Best(state, candidates, gone) : null) ?? StaticPlanner.Instance.Preferred(point, candidates);
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

        foreach (var candidate in candidates)
        {
            state.Arms.TryAdd(candidate.Id, new ArmState());
        }

        return state;
    }

    private sealed class ArmState
    {
        public double? Estimate { get; set; }

        /// <summary>Probed cost ÷ the committed cost of the same round (averaged like <see cref="Estimate"/>).</summary>
        public double? Relative { get; set; }

        /// <summary>The committed choice <see cref="Relative"/> is relative to.</summary>
        public NodeId? RelativeTo { get; set; }

        /// <summary>Discounted probe count as of <see cref="ProbedAt"/>.</summary>
        public double Probes { get; set; }

        public int ProbedAt { get; set; } = -1;
    }

    private sealed class PointState
    {
        public Dictionary<NodeId, ArmState> Arms { get; } = [];

        public NodeId? Committed { get; set; }

        public double? CommittedCost { get; set; }

        /// <summary><see cref="Round"/> at the last <see cref="GameTheoreticPlanner.Choose"/>.</summary>
        public int ChosenAt { get; set; } = -1;

        /// <summary>Better responses taken, discounted by <see cref="GameSettings.SwitchMemory"/> per observed round (each makes the next one less likely, see <see cref="GameSettings.InertiaDecay"/>).</summary>
        public double Switches { get; set; }

        /// <summary>The inertia coin of the last probe came up: the next choice may take a verified better response.</summary>
        public bool Move { get; set; }

        /// <summary>Rounds observed on the committed choice.</summary>
        public int Round { get; set; }
    }
}
