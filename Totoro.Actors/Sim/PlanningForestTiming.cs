namespace Totoro.Actors.Sim;

/// <summary>One app's round under the flow-level model, seconds (compute time excluded: no planner changes it).</summary>
internal readonly record struct AppRoundTime(double Dissemination, double Aggregation)
{
    public double Total => Dissemination + Aggregation;
}

/// <summary>The flow-level timing of <see cref="PlanningForest"/>: per-link sharing, hops, paths, rounds.</summary>
internal sealed partial class PlanningForest
{
    /// <summary>A temporary change of one app's transfer counts on some links (a unilateral deviation), keyed by load index.</summary>
    internal sealed class LoadDelta : Dictionary<int, int>
    {
    }

    /// <summary>
    /// Finishing time (s) of app <paramref name="app"/>'s transfer on a link under equal sharing from the phase start:
    /// Σ over the link's transfers j of min(sⱼ, s) · 8 / C.
    /// </summary>
    public double TransferSeconds(LinkUse use, int node, int app, LoadDelta? delta = null)
    {
        var capacity = use is LinkUse.DisseminationUp or LinkUse.AggregationUp ? _links.UplinkBitsPerSecond[node] : _links.DownlinkBitsPerSecond[node];
        var size = Apps[app].ModelBytes;
        var baseIndex = LoadIndex(use, node, 0);
        var bytes = 0.0;
        for (var other = 0; other < Apps.Length; other++)
        {
            var count = _load[baseIndex + other];
            if (other == app && delta is not null && delta.TryGetValue(baseIndex + other, out var change))
            {
                count += change;
            }

            bytes += count * Math.Min(size, Apps[other].ModelBytes);
        }

        bytes += _probeLoad[((int)use * _nodes) + node] * Math.Min(size, ProbeBytes);
        return bytes * 8 / capacity;
    }

    /// <summary>Child → parent upload of one app's update: child's uplink, propagation, parent's downlink.</summary>
    public double HopUp(int app, int child, int parent, LoadDelta? delta = null) =>
        TransferSeconds(LinkUse.AggregationUp, child, app, delta) + _network.PropagationDelay(child, parent).TotalSeconds +
        TransferSeconds(LinkUse.AggregationDown, parent, app, delta);

    /// <summary>Parent → child download of one app's model: parent's uplink, propagation, child's downlink.</summary>
    public double HopDown(int app, int parent, int child, LoadDelta? delta = null) =>
        TransferSeconds(LinkUse.DisseminationUp, parent, app, delta) + _network.PropagationDelay(parent, child).TotalSeconds +
        TransferSeconds(LinkUse.DisseminationDown, child, app, delta);

    /// <summary>
    /// Times app <paramref name="app"/>'s round and fills <paramref name="pathCost"/> (indexed by node) with each tree
    /// member's flow cost: model arrival from the root plus its update's travel to the root along its path.
    /// Dissemination ends when the last member has the model; aggregation (store-and-forward, a node forwards once
    /// its slowest child arrived) ends when the root has every update, i.e. the longest upward path.
    /// </summary>
    public AppRoundTime Time(int app, double[] pathCost)
    {
        ArgumentNullException.ThrowIfNull(pathCost);
        var parent = _parent[app];
        var down = new double[_nodes];
        var up = new double[_nodes];
        double dissemination = 0, aggregation = 0;
        foreach (var node in _order[app])
        {
            var p = parent[node];
            if (p >= 0)
            {
                down[node] = down[p] + HopDown(app, p, node);
                up[node] = up[p] + HopUp(app, node, p);
            }

            pathCost[node] = down[node] + up[node];
            dissemination = Math.Max(dissemination, down[node]);
            aggregation = Math.Max(aggregation, up[node]);
        }

        return new AppRoundTime(dissemination, aggregation);
    }

    /// <summary>The flow cost of <paramref name="node"/> along the path given by <paramref name="parentOf"/>, with the loads shifted by <paramref name="delta"/>.</summary>
    internal double PathCost(int app, int node, Func<int, int> parentOf, LoadDelta? delta)
    {
        var cost = 0.0;
        for (var at = node; parentOf(at) is var p && p >= 0; at = p)
        {
            cost += HopUp(app, at, p, delta) + HopDown(app, p, at, delta);
        }

        return cost;
    }

    internal void Shift(LoadDelta delta, int app, int child, int parent, int change)
    {
        void Add(LinkUse use, int node)
        {
            var index = LoadIndex(use, node, app);
            delta[index] = delta.GetValueOrDefault(index) + change;
        }

        Add(LinkUse.DisseminationUp, parent);
        Add(LinkUse.DisseminationDown, child);
        Add(LinkUse.AggregationUp, child);
        Add(LinkUse.AggregationDown, parent);
    }

    /// <summary>
    /// Charges probes to the links: each (prober, target) probe is one <see cref="ProbeBytes"/> transfer each way,
    /// sharing the target's uplink and the prober's downlink, and the prober's uplink and the target's downlink, with
    /// the round's model transfers. Replaces the previous set (probes run during the round after they were requested).
    /// </summary>
    public void SetProbes(IReadOnlyList<(int Prober, int Target)> probes)
    {
        ArgumentNullException.ThrowIfNull(probes);
        Array.Clear(_probeLoad);
        foreach (var (prober, target) in probes)
        {
            _probeLoad[((int)LinkUse.DisseminationUp * _nodes) + target]++;
            _probeLoad[((int)LinkUse.DisseminationDown * _nodes) + prober]++;
            _probeLoad[((int)LinkUse.AggregationUp * _nodes) + prober]++;
            _probeLoad[((int)LinkUse.AggregationDown * _nodes) + target]++;
        }
    }

    internal bool IsSubscriber(int app, int node) => _subscriber[app][node];

    internal int ChildCount(int app, int node) => _children[app][node].Count;
}
