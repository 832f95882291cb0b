using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>
/// One node's share of a run: the trees it roots, forwards in (has children, not the root) and works in, its
/// children summed over those trees, and what its uplink carried (busy: serialization time; waited: the summed time
/// its messages queued behind earlier bytes).
/// </summary>
internal sealed record FlNodeLoad(
    int Node, int RootOf, int InteriorIn, int WorkerIn, int Children, long Messages, double UplinkBusySeconds, double UplinkWaitedSeconds);

/// <summary>
/// How deep one app's workers sit in its tree: hops from a worker up to the root (1 for a worker the root keeps as
/// a child), as mean and max over the app's workers. A round waits for its deepest invited worker, and every level
/// adds a partial's upload, so an app's time alone follows its tree's depth (docs/experiments.md, "Tree depth,
/// doubled roots and relay bypass").
/// </summary>
internal sealed record FlTreeDepth(string App, double MeanWorkerDepth, int MaxWorkerDepth);

/// <summary>
/// Where a run's load sat (<c>sim fl --json</c>, per run): how many trees the most shared node forwards in, how many
/// nodes forward in ≥ 3 trees, how many roots also forward or work in other apps' trees, the most children one node
/// keeps over all trees, the nodes whose uplinks were busiest, and each app's worker depth.
/// </summary>
internal sealed record FlLoad(
    int MaxInteriorTrees,
    int NodesInteriorInThreePlus,
    int RootsSharedWithOtherTrees,
    int MaxChildren,
    IReadOnlyList<FlNodeLoad> BusiestUplinks,
    IReadOnlyList<FlTreeDepth> Depths)
{
    /// <summary>How many of the busiest uplinks a summary lists.</summary>
    public const int Listed = 8;

    /// <summary>
    /// The roles of every node in <paramref name="apps"/>' trees (members found by walking each worker's parents up to
    /// the root), joined with each node's uplink usage from <paramref name="uplink"/>.
    /// </summary>
    public static FlLoad Measure(IFlTopology topology, IEnumerable<string> apps, ImmutableArray<Address> addresses, Func<int, UplinkUsage> uplink)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(apps);
        ArgumentNullException.ThrowIfNull(uplink);
        var index = addresses.Select((a, i) => KeyValuePair.Create(a, i)).ToDictionary();
        var roots = new int[addresses.Length];
        var interior = new int[addresses.Length];
        var workers = new int[addresses.Length];
        var children = new int[addresses.Length];
        var depths = new List<FlTreeDepth>();
        foreach (var app in apps)
        {
            var root = topology.Root(app);
            roots[index[root]]++;
            var parents = new Dictionary<Address, Address>();
            var workerDepths = new List<int>();
            foreach (var worker in topology.Workers(app))
            {
                workers[index[worker]]++;
                var current = worker;
                while (current != root && !parents.ContainsKey(current) && topology.Parent(app, current) is { } parent)
                {
                    parents[current] = parent;
                    current = parent;
                }

                workerDepths.Add(DepthOf(worker, root, parents, addresses.Length));
            }

            depths.Add(new FlTreeDepth(app, workerDepths.Count == 0 ? 0 : workerDepths.Average(), workerDepths.DefaultIfEmpty(0).Max()));

            foreach (var group in parents.GroupBy(p => p.Value))
            {
                var node = index[group.Key];
                children[node] += group.Count();
                if (group.Key != root)
                {
                    interior[node]++;
                }
            }
        }

        var nodes = Enumerable.Range(0, addresses.Length).Select(n =>
        {
            var usage = uplink(n);
            return new FlNodeLoad(n, roots[n], interior[n], workers[n], children[n], usage.Messages, usage.Busy.TotalSeconds, usage.Waited.TotalSeconds);
        }).ToList();
        return new FlLoad(
            interior.Max(),
            interior.Count(c => c >= 3),
            nodes.Count(n => n.RootOf > 0 && (n.InteriorIn > 0 || n.WorkerIn > 0 || n.RootOf > 1)),
            children.Max(),
            [.. nodes.OrderByDescending(n => n.UplinkBusySeconds).ThenBy(n => n.Node).Take(Listed)],
            depths);
    }

    /// <summary>Hops from <paramref name="worker"/> up to <paramref name="root"/> through <paramref name="parents"/> (0 for the root itself).</summary>
    private static int DepthOf(Address worker, Address root, Dictionary<Address, Address> parents, int bound)
    {
        var depth = 0;
        for (var current = worker; current != root && depth < bound && parents.TryGetValue(current, out var parent); current = parent)
        {
            depth++;
        }

        return depth;
    }
}
