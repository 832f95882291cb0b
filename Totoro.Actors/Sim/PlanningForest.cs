using System.Collections.Immutable;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Sim;

/// <summary>The two phases of a round and the access link each transfer crosses (see docs/planning.md).</summary>
internal enum LinkUse
{
    /// <summary>Dissemination: the parent's uplink, one transfer per child.</summary>
    DisseminationUp,

    /// <summary>Dissemination: the child's downlink.</summary>
    DisseminationDown,

    /// <summary>Aggregation: the child's uplink.</summary>
    AggregationUp,

    /// <summary>Aggregation: the parent's downlink, one transfer per child.</summary>
    AggregationDown,
}

/// <summary>
/// Every application's Scribe tree over a fixed ring, built from planners' parent choices among the valid
/// candidates, and the flow-level link model that times a round. Trees are the union of the subscribers' routes to
/// the app's root; a node already in the tree absorbs the route (Scribe). Link sharing: on each access link, the
/// transfers of one phase share the bandwidth equally from the phase start (fluid processor sharing), so a transfer
/// of s bytes finishes after Σⱼ min(sⱼ, s) · 8 / C; a hop is store-and-forward over the sender's uplink, the
/// propagation delay and the receiver's downlink. Single-threaded; mutated in place by <see cref="Build"/>.
/// </summary>
internal sealed partial class PlanningForest
{
    private readonly ImmutableArray<RingNodeState?> _rings;
    private readonly PlanningLinks _links;
    private readonly NetworkModel _network;
    private readonly int _cap;
    private readonly int _nodes;
    private readonly ImmutableArray<int>[][] _nextHops;
    private readonly ImmutableArray<PeerEntry>[][] _ringEntries;
    private readonly int[][] _parent;
    private readonly List<int>[][] _children;
    private readonly bool[][] _subscriber;
    private readonly List<int>[] _order;
    private readonly int[] _load;
    private readonly int[] _probeLoad;

    public PlanningForest(ImmutableArray<RingNodeState?> rings, PlanningLinks links, NetworkModel network, ImmutableArray<PlanningApp> apps, int fanOutCap)
    {
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(network);
        _rings = rings;
        _links = links;
        _network = network;
        _cap = fanOutCap;
        _nodes = rings.Length;
        Apps = apps;
        _nextHops = [.. apps.Select(_ => new ImmutableArray<int>[_nodes])];
        _ringEntries = [.. apps.Select(_ => new ImmutableArray<PeerEntry>[_nodes])];
        _parent = [.. apps.Select(_ => Enumerable.Repeat(-1, _nodes).ToArray())];
        _children = [.. apps.Select(_ => Enumerable.Range(0, _nodes).Select(_ => new List<int>()).ToArray())];
        _subscriber = [.. apps.Select(app => { var s = new bool[_nodes]; app.Subscribers.ToList().ForEach(n => s[n] = true); return s; })];
        _order = [.. apps.Select(_ => new List<int>())];
        _load = new int[4 * _nodes * apps.Length];
        _probeLoad = new int[4 * _nodes];
    }

    public ImmutableArray<PlanningApp> Apps { get; }

    public int FanOutCap => _cap;

    /// <summary>Size of one probe transfer (bytes), charged by <see cref="SetProbes"/>.</summary>
    public double ProbeBytes { get; init; } = 256 * 1024;

    /// <summary>The nodes of app <paramref name="app"/>'s tree, root first, every parent before its children.</summary>
    public IReadOnlyList<int> Members(int app) => _order[app];

    public int ParentOf(int app, int node) => _parent[app][node];

    public ITreeView View(int app) => new TreeView(this, app);

    public DecisionPoint Point(int app, int node) => new(_rings[node]!.Self.Id, Apps[app].Key);

    public PeerEntry Entry(int app, int from, int to)
    {
        foreach (var entry in RingEntries(app, from))
        {
            if (entry.Address.Value == to)
            {
                return entry;
            }
        }

        return PeerEntry.Measured(_rings[to]!.Self.Id, new NodeAddress(to), _network.BaseRtt(from, to));
    }

    /// <summary>Valid parents of <paramref name="node"/> in app <paramref name="app"/>'s tree as it stands (see <see cref="PathCandidates.Parents"/>).</summary>
    public ImmutableArray<int> ValidParents(int app, int node) => PathCandidates.Parents(node, NextHops(app, node).AsSpan(), View(app), _cap);

    /// <summary>
    /// Rebuilds app <paramref name="app"/>'s tree: each subscriber's route toward the key, where at every node not yet
    /// in the tree <paramref name="choose"/> picks the parent among the valid candidates.
    /// </summary>
    public void Build(int app, Func<DecisionPoint, ImmutableArray<PeerEntry>, PeerEntry> choose)
    {
        ArgumentNullException.ThrowIfNull(choose);
        var parent = _parent[app];
        var children = _children[app];
        foreach (var node in _order[app])
        {
            AddLoad(app, node, parent[node], -1);
            parent[node] = -1;
            children[node].Clear();
        }

        var order = _order[app];
        order.Clear();
        var root = Apps[app].Root;
        var inTree = new bool[_nodes];
        inTree[root] = true;
        foreach (var subscriber in Apps[app].Subscribers)
        {
            var node = subscriber;
            while (!inTree[node])
            {
                inTree[node] = true;
                var candidates = ValidParents(app, node);
                if (candidates.IsEmpty)
                {
                    throw new InvalidOperationException($"node {node} has no valid parent in app {app}'s tree (ring not converged?)");
                }

                var chosen = choose(Point(app, node), [.. candidates.Select(to => Entry(app, node, to))]).Address.Value;
                if (!candidates.Contains(chosen))
                {
                    throw new InvalidOperationException($"planner chose {chosen}, not a valid parent of {node}");
                }

                parent[node] = chosen;
                children[chosen].Add(node);
                node = chosen;
            }
        }

        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var node))
        {
            order.Add(node);
            AddLoad(app, node, parent[node], +1);
            children[node].ForEach(queue.Enqueue);
        }
    }

    /// <summary>Next hops of <paramref name="node"/> toward the app's key as node indices (cached: the ring is fixed).</summary>
    public ImmutableArray<int> NextHops(int app, int node)
    {
        if (_nextHops[app][node].IsDefault)
        {
            _nextHops[app][node] = [.. RingEntries(app, node).Select(entry => entry.Address.Value)];
        }

        return _nextHops[app][node];
    }

    private ImmutableArray<PeerEntry> RingEntries(int app, int node)
    {
        if (_ringEntries[app][node].IsDefault)
        {
            var ring = _rings[node] ?? throw new InvalidOperationException($"node {node} is not a live ring member");
            _ringEntries[app][node] = PathCandidates.NextHops(ring.Decide(Apps[app].Key));
        }

        return _ringEntries[app][node];
    }

    private void AddLoad(int app, int child, int parent, int delta)
    {
        if (parent < 0)
        {
            return;
        }

        _load[LoadIndex(LinkUse.DisseminationUp, parent, app)] += delta;
        _load[LoadIndex(LinkUse.DisseminationDown, child, app)] += delta;
        _load[LoadIndex(LinkUse.AggregationUp, child, app)] += delta;
        _load[LoadIndex(LinkUse.AggregationDown, parent, app)] += delta;
    }

    private int LoadIndex(LinkUse use, int node, int app) => ((((int)use * _nodes) + node) * Apps.Length) + app;

    private sealed class TreeView(PlanningForest forest, int app) : ITreeView
    {
        public int ParentOf(int node) => forest._parent[app][node];

        public int ChildCount(int node) => forest._children[app][node].Count;

        public IEnumerable<int> ChildrenOf(int node) => forest._children[app][node];

        public bool IsInSubtree(int node, int ancestor)
        {
            for (var at = node; at >= 0; at = forest._parent[app][at])
            {
                if (at == ancestor)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
