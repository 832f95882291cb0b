using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Planning;

/// <summary>
/// One decision-maker of path planning: node <paramref name="Node"/> choosing its next hop (or tree parent) for the
/// flow toward <paramref name="Flow"/> (a topic key: one application's tree). Planners keep separate statistics per point.
/// </summary>
internal readonly record struct DecisionPoint(NodeId Node, NodeId Flow);

/// <summary>
/// The path-planning seam: chooses among valid alternatives (all of them safe, see <see cref="PathCandidates"/>) and
/// learns from the realized cost of the alternative it chose (bandit feedback). Implementations keep per-point
/// state and are owned by one thread (a node's actor, or the simulator); they are not thread-safe.
/// </summary>
internal interface IPathPlanner
{
    string Name { get; }

    /// <summary>The alternative to use now; may explore. <paramref name="candidates"/> is non-empty.</summary>
    PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates);

    /// <summary>The alternative the planner currently believes best, without exploring or changing any state.</summary>
    PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates);

    /// <summary>Feedback: using <paramref name="chosen"/> at <paramref name="point"/> cost <paramref name="cost"/> (seconds, ≥ 0).</summary>
    void Observe(DecisionPoint point, NodeId chosen, double cost);

    /// <summary>Drops everything learned at <paramref name="point"/> (live nodes bound the points they keep).</summary>
    void Forget(DecisionPoint point);
}

/// <summary>Which planner a run or a node uses.</summary>
internal enum PlannerKind
{
    Static,
    Bandit,
    GameTheoretic,
}

/// <summary>Builds planners from settings; every random choice comes from the injected generator.</summary>
internal static class PathPlanners
{
    public static IPathPlanner Create(PlannerKind kind, PlanningSettings settings, Random random) => kind switch
    {
        PlannerKind.Static => StaticPlanner.Instance,
        PlannerKind.Bandit => new BanditPlanner(settings.Bandit),
        PlannerKind.GameTheoretic => new GameTheoreticPlanner(settings.Game, random),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown planner"),
    };

    public static string Key(PlannerKind kind) => kind switch
    {
        PlannerKind.Static => "static",
        PlannerKind.Bandit => "bandit",
        PlannerKind.GameTheoretic => "game",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown planner"),
    };

    /// <summary>Parses <c>static</c>, <c>bandit</c> or <c>game</c>; the error names the accepted values.</summary>
    public static PlannerKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "static" => PlannerKind.Static,
        "bandit" => PlannerKind.Bandit,
        "game" or "game-theoretic" => PlannerKind.GameTheoretic,
        _ => throw new ArgumentException($"unknown planner '{text}': expected static, bandit or game", nameof(text)),
    };
}

/// <summary>
/// The ring's <see cref="INextHopPlanner"/> backed by an <see cref="IPathPlanner"/>: every valid option of the
/// routing decision is a candidate, the route key is the flow. Feedback reaches the planner through
/// <see cref="IPathPlanner.Observe"/> from whoever measures the transfer: on a live node the ring shell reports each
/// acknowledged hop (<see cref="IHopFeedback"/>: send → ack time, seconds, for the hop last chosen toward that key);
/// the forest and the simulator may call the planner directly.
/// </summary>
internal sealed class PathPlannerHopAdapter : INextHopPlanner, IHopFeedback
{
    private readonly NodeId _self;
    private readonly IPathPlanner _planner;
    private readonly int _maxPoints;

    // The hop last chosen per key, so an acknowledgement (which names only the address) maps back to the arm.
    private readonly Dictionary<NodeId, PeerEntry> _lastChoice = [];

    // Keys with planner state, least recently routed first: beyond _maxPoints the oldest is forgotten, so a node
    // routing ever new keys (lookups) keeps bounded state.
    private readonly LinkedList<NodeId> _recent = new();
    private readonly Dictionary<NodeId, LinkedListNode<NodeId>> _recentIndex = [];

    /// <param name="maxPoints">Most keys (decision points) the planner keeps state for: <c>totoro.planning.max-decision-points</c>.</param>
    public PathPlannerHopAdapter(NodeId self, IPathPlanner planner, int maxPoints = PlanningSettings.DefaultMaxDecisionPoints)
    {
        ArgumentNullException.ThrowIfNull(planner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 1);
        _self = self;
        _planner = planner;
        _maxPoints = maxPoints;
    }

    public IPathPlanner Planner => _planner;

    /// <summary>Keys the planner currently keeps state for (at most the configured maximum).</summary>
    public int TrackedPoints => _recentIndex.Count;

    public PeerEntry Choose(NodeId key, RouteDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var candidates = PathCandidates.NextHops(decision);
        if (candidates.IsEmpty)
        {
            throw new ArgumentException("A deliver-here decision has no next hop.", nameof(decision));
        }

        Touch(key);
        var chosen = _planner.Choose(new DecisionPoint(_self, key), candidates);
        _lastChoice[key] = chosen;
        return chosen;
    }

    public void ObserveHop(NodeId key, NodeAddress nextHop, TimeSpan elapsed)
    {
        if (_lastChoice.TryGetValue(key, out var chosen) && chosen.Address == nextHop)
        {
            _lastChoice.Remove(key);
            _planner.Observe(new DecisionPoint(_self, key), chosen.Id, Math.Max(0, elapsed.TotalSeconds));
        }
    }

    private void Touch(NodeId key)
    {
        if (_recentIndex.TryGetValue(key, out var node))
        {
            _recent.Remove(node);
            _recent.AddLast(node);
            return;
        }

        _recentIndex[key] = _recent.AddLast(key);
        if (_recentIndex.Count > _maxPoints)
        {
            var oldest = _recent.First!.Value;
            _recent.RemoveFirst();
            _recentIndex.Remove(oldest);
            _lastChoice.Remove(oldest);
            _planner.Forget(new DecisionPoint(_self, oldest));
        }
    }
}

/// <summary>Today's proximity choice, the baseline: the lowest measured RTT (unmeasured last, then by id). Stateless.</summary>
internal sealed class StaticPlanner : IPathPlanner
{
    public static StaticPlanner Instance { get; } = new();

    public string Name => "static";

    public PeerEntry Choose(DecisionPoint point, ImmutableArray<PeerEntry> candidates) => Preferred(point, candidates);

    public PeerEntry Preferred(DecisionPoint point, ImmutableArray<PeerEntry> candidates)
    {
        if (candidates.IsDefaultOrEmpty)
        {
            throw new ArgumentException("No candidates to choose from.", nameof(candidates));
        }

        var best = candidates[0];
        foreach (var candidate in candidates)
        {
            if (RoutingTable.CompareByProximity(candidate, best) < 0)
            {
                best = candidate;
            }
        }

        return best;
    }

    public void Forget(DecisionPoint point)
    {
    }

    public void Observe(DecisionPoint point, NodeId chosen, double cost)
    {
    }
}
