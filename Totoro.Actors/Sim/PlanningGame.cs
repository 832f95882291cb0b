using System.Collections.Immutable;
using Totoro.Actors.Planning;

namespace Totoro.Actors.Sim;

/// <summary>
/// The congestion game among applications' flows, seen at the current trees. A player is one (app, node) parent
/// choice of a non-root tree member; its cost is its flow cost (<see cref="PlanningForest.Time"/>). A unilateral
/// deviation re-parents the node to another valid candidate with every other choice kept: the node's old branch is
/// pruned where it no longer leads to a subscriber, a candidate outside the tree routes on with its planner's
/// <see cref="IPathPlanner.Preferred"/> choices until it meets the tree, and the app's link loads shift accordingly.
/// A deviation that would close a loop is not a valid alternative (infinite cost).
/// </summary>
internal sealed class PlanningGame : IUnilateralGame
{
    private readonly PlanningForest _forest;
    private readonly double[][] _pathCost;
    private readonly IPathPlanner _planner;
    private readonly List<(int App, int Node)> _players = [];
    private readonly ImmutableArray<int>[] _alternatives;

    public PlanningGame(PlanningForest forest, double[][] pathCost, IPathPlanner planner)
    {
        ArgumentNullException.ThrowIfNull(forest);
        ArgumentNullException.ThrowIfNull(pathCost);
        ArgumentNullException.ThrowIfNull(planner);
        _forest = forest;
        _pathCost = pathCost;
        _planner = planner;
        for (var app = 0; app < forest.Apps.Length; app++)
        {
            foreach (var node in forest.Members(app))
            {
                if (forest.ParentOf(app, node) >= 0)
                {
                    _players.Add((app, node));
                }
            }
        }

        _alternatives = new ImmutableArray<int>[_players.Count];
    }

    public int PlayerCount => _players.Count;

    public (int App, int Node) Player(int player) => _players[player];

    public double Cost(int player) => _pathCost[_players[player].App][_players[player].Node];

    public int AlternativeCount(int player) => Alternatives(player).Length;

    public int Alternative(int player, int alternative) => Alternatives(player)[alternative];

    public double DeviationCost(int player, int alternative) =>
        DeviationCost(_players[player].App, _players[player].Node, Alternatives(player)[alternative]);

    /// <summary>What tree member <paramref name="node"/> of app <paramref name="app"/> would pay with parent <paramref name="target"/>, everything else fixed (+∞ if that closes a loop).</summary>
    public double DeviationCost(int app, int node, int target)
    {
        var old = _forest.ParentOf(app, node);
        var root = _forest.Apps[app].Root;
        var delta = new PlanningForest.LoadDelta();
        var newParent = new Dictionary<int, int> { [node] = target };
        var childChange = new Dictionary<int, int> { [old] = -1 };
        childChange[target] = childChange.GetValueOrDefault(target) + 1;
        _forest.Shift(delta, app, node, old, -1);
        _forest.Shift(delta, app, node, target, +1);

        var removed = new HashSet<int>();
        for (var at = old; at != root && !_forest.IsSubscriber(app, at) && _forest.ChildCount(app, at) + childChange.GetValueOrDefault(at) == 0;)
        {
            var up = _forest.ParentOf(app, at);
            removed.Add(at);
            _forest.Shift(delta, app, at, up, -1);
            childChange[up] = childChange.GetValueOrDefault(up) - 1;
            at = up;
        }

        var view = _forest.View(app);
        for (var at = target; (at != root && _forest.ParentOf(app, at) < 0) || removed.Contains(at);)
        {
            var candidates = _forest.ValidParents(app, at);
            if (candidates.IsEmpty)
            {
                return double.PositiveInfinity;
            }

            var next = _planner.Preferred(_forest.Point(app, at), [.. candidates.Select(to => _forest.Entry(app, at, to))]).Address.Value;
            if (view.IsInSubtree(next, node) || newParent.ContainsKey(next))
            {
                return double.PositiveInfinity;
            }

            removed.Remove(at);
            newParent[at] = next;
            _forest.Shift(delta, app, at, next, +1);
            at = next;
        }

        return _forest.PathCost(app, node, n => newParent.TryGetValue(n, out var p) ? p : _forest.ParentOf(app, n), delta);
    }

    private ImmutableArray<int> Alternatives(int player)
    {
        if (_alternatives[player].IsDefault)
        {
            var (app, node) = _players[player];
            var current = _forest.ParentOf(app, node);
            _alternatives[player] = _forest.ValidParents(app, node).Remove(current);
        }

        return _alternatives[player];
    }
}
