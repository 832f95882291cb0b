using System.Collections.Immutable;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// A fixed tree per app, given as parent links: for tests and until the forest provides <c>ForestTopology</c>.
/// Every node of the tree is a worker (as in Totoro, where the app's subscribers are its workers).
/// </summary>
public sealed class StaticTreeTopology : IFlTopology
{
    private readonly ImmutableDictionary<string, Tree> _trees;

    private StaticTreeTopology(ImmutableDictionary<string, Tree> trees) => _trees = trees;

    public string Kind => "static-tree";

    public static StaticTreeTopology Empty { get; } = new(ImmutableDictionary<string, Tree>.Empty);

    /// <summary>
    /// Adds an app whose tree is a complete <paramref name="fanOut"/>-ary tree over <paramref name="nodes"/> in order:
    /// node 0 is the root, node i's parent is node (i − 1) / fanOut.
    /// </summary>
    public StaticTreeTopology WithBalancedTree(string app, IReadOnlyList<Address> nodes, int fanOut)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentOutOfRangeException.ThrowIfLessThan(fanOut, 1);
        var parents = nodes.Select((_, i) => i == 0 ? -1 : (i - 1) / fanOut).ToArray();
        return WithTree(app, nodes, parents);
    }

    /// <summary>Adds an app's tree: <paramref name="parents"/>[i] is the index of node i's parent, −1 for the one root.</summary>
    public StaticTreeTopology WithTree(string app, IReadOnlyList<Address> nodes, IReadOnlyList<int> parents)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(parents);
        return new StaticTreeTopology(_trees.SetItem(app, Tree.Build([.. nodes], [.. parents])));
    }

    public Address Root(string app) => TreeOf(app).Nodes[TreeOf(app).RootIndex];

    public ImmutableArray<Address> Workers(string app) => TreeOf(app).Nodes;

    public Address? Parent(string app, Address node)
    {
        var tree = TreeOf(app);
        var parent = tree.Parents[tree.IndexOf[node]];
        return parent < 0 ? null : tree.Nodes[parent];
    }

    public ImmutableDictionary<Address, ImmutableArray<int>> RouteToChildren(string app, Address node, ImmutableArray<int> workers)
    {
        var tree = TreeOf(app);
        var self = tree.IndexOf[node];
        var routes = new Dictionary<Address, List<int>>();
        foreach (var worker in workers)
        {
            // Walk up from the worker; the node reached just below self is the child that leads to it.
            var current = worker;
            while (current >= 0 && tree.Parents[current] != self)
            {
                current = current == self ? -1 : tree.Parents[current];
            }

            if (current >= 0 && worker != self)
            {
                var child = tree.Nodes[current];
                if (!routes.TryGetValue(child, out var list))
                {
                    routes[child] = list = [];
                }

                list.Add(worker);
            }
        }

        return routes.ToImmutableDictionary(r => r.Key, r => r.Value.ToImmutableArray());
    }

    private Tree TreeOf(string app) =>
        _trees.TryGetValue(app, out var tree) ? tree : throw new KeyNotFoundException($"no tree for app '{app}'");

    private sealed record Tree(ImmutableArray<Address> Nodes, ImmutableArray<int> Parents, int RootIndex, ImmutableDictionary<Address, int> IndexOf)
    {
        public static Tree Build(ImmutableArray<Address> nodes, ImmutableArray<int> parents)
        {
            if (nodes.Length != parents.Length || nodes.IsEmpty)
            {
                throw new ArgumentException("need one parent index per node and at least one node", nameof(parents));
            }

            var roots = Enumerable.Range(0, parents.Length).Where(i => parents[i] < 0).ToArray();
            if (roots.Length != 1 || parents.Any(p => p >= nodes.Length))
            {
                throw new ArgumentException("need exactly one root (−1) and parent indices within range", nameof(parents));
            }

            for (var i = 0; i < nodes.Length; i++)
            {
                var steps = 0;
                for (var p = i; p >= 0; p = parents[p])
                {
                    if (++steps > nodes.Length)
                    {
                        throw new ArgumentException($"node {i} is on a cycle", nameof(parents));
                    }
                }
            }

            return new Tree(nodes, parents, roots[0], nodes.Select((a, i) => KeyValuePair.Create(a, i)).ToImmutableDictionary());
        }
    }
}
