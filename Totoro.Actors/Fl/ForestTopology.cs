using System.Collections.Immutable;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// The trees the forest protocol formed, one per app: the home root (the live node closest to hash(app) in the
/// app's home zone), the subscribers as workers, and every member's parent — subscribers and the forwarders that
/// Scribe joins recruited along ring routes. A snapshot: build it from the forest's parent pointers (the sim's
/// <c>ForestDriver</c>) and hand a new one to the roles when trees change.
/// </summary>
public sealed class ForestTopology : IFlTopology
{
    private readonly ImmutableDictionary<string, AppTree> _trees;

    private ForestTopology(ImmutableDictionary<string, AppTree> trees) => _trees = trees;

    public static ForestTopology Empty { get; } = new(ImmutableDictionary<string, AppTree>.Empty);

    public string Kind => "forest";

    /// <summary>The apps this snapshot holds a tree for.</summary>
    public IEnumerable<string> Apps => _trees.Keys;

    /// <summary>
    /// Adds <paramref name="app"/>'s tree: <paramref name="parents"/> maps every member except <paramref name="root"/> to
    /// its parent; <paramref name="workers"/> (the subscribers, in contributor-id order) must all be members.
    /// Throws when a member's parent chain does not reach the root (a detached member or a loop).
    /// </summary>
    public ForestTopology WithTree(string app, Address root, IReadOnlyList<Address> workers, IReadOnlyDictionary<Address, Address> parents)
    {
        ArgumentException.ThrowIfNullOrEmpty(app);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(parents);
        return new ForestTopology(_trees.SetItem(app, AppTree.Build(app, root, [.. workers], parents.ToImmutableDictionary())));
    }

    public Address Root(string app) => TreeOf(app).Root;

    public ImmutableArray<Address> Workers(string app) => TreeOf(app).Workers;

    public Address? Parent(string app, Address node) => TreeOf(app).Parents.GetValueOrDefault(node);

    /// <summary>The children of <paramref name="node"/> in <paramref name="app"/>'s tree (empty for leaves and non-members).</summary>
    public ImmutableArray<Address> Children(string app, Address node) => TreeOf(app).Children.GetValueOrDefault(node, []);

    /// <summary>Every member of the app's tree: the root, the workers and the forwarders between them.</summary>
    public IEnumerable<Address> Members(string app) => TreeOf(app).Parents.Keys.Append(TreeOf(app).Root);

    /// <summary>The nodes from worker <paramref name="worker"/> up to the root, the worker first and the root last.</summary>
    public ImmutableArray<Address> PathToRoot(string app, int worker) => TreeOf(app).Chains[worker];

    public ImmutableDictionary<Address, ImmutableArray<int>> RouteToChildren(string app, Address node, ImmutableArray<int> workers)
    {
        var tree = TreeOf(app);
        var routes = new Dictionary<Address, List<int>>();
        foreach (var worker in workers)
        {
            // The chain runs worker → … → root; the member just before this node on it is the child that leads there.
            var chain = tree.Chains[worker];
            var at = chain.IndexOf(node);
            if (at <= 0)
            {
                continue;
            }

            var child = chain[at - 1];
            if (!routes.TryGetValue(child, out var list))
            {
                routes[child] = list = [];
            }

            list.Add(worker);
        }

        return routes.ToImmutableDictionary(r => r.Key, r => r.Value.ToImmutableArray());
    }

    private AppTree TreeOf(string app) =>
        _trees.TryGetValue(app, out var tree) ? tree : throw new KeyNotFoundException($"no forest tree for app '{app}'");

    private sealed record AppTree(
        Address Root,
        ImmutableArray<Address> Workers,
        ImmutableDictionary<Address, Address> Parents,
        ImmutableDictionary<Address, ImmutableArray<Address>> Children,
        ImmutableArray<ImmutableArray<Address>> Chains)
    {
        public static AppTree Build(string app, Address root, ImmutableArray<Address> workers, ImmutableDictionary<Address, Address> parents)
        {
            if (parents.ContainsKey(root))
            {
                throw new ArgumentException($"app '{app}': the root {root} has a parent", nameof(parents));
            }

            if (workers.Distinct().Count() != workers.Length)
            {
                throw new ArgumentException($"app '{app}': a worker is listed twice", nameof(workers));
            }

            var chains = workers.Select(w => Chain(app, root, w, parents)).ToImmutableArray();
            var children = parents
                .GroupBy(p => p.Value, p => p.Key)
                .ToImmutableDictionary(g => g.Key, g => g.OrderBy(a => a.ToString(), StringComparer.Ordinal).ToImmutableArray());
            return new AppTree(root, workers, parents, children, chains);
        }

        private static ImmutableArray<Address> Chain(string app, Address root, Address worker, ImmutableDictionary<Address, Address> parents)
        {
            var chain = ImmutableArray.CreateBuilder<Address>();
            var current = worker;
            chain.Add(current);
            while (current != root)
            {
                if (!parents.TryGetValue(current, out var parent))
                {
                    throw new ArgumentException($"app '{app}': {current} on the way up from worker {worker} has no parent", nameof(parents));
                }

                if (chain.Count > parents.Count + 1)
                {
                    throw new ArgumentException($"app '{app}': the parents of worker {worker} form a loop", nameof(parents));
                }

                chain.Add(current = parent);
            }

            return chain.ToImmutable();
        }
    }
}
