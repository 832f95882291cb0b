using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Actors.Forest;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>One app for <see cref="ForestDriver.GrowTrees"/>: its name and the nodes that subscribe as its workers.</summary>
internal sealed record ForestApp(string Name, ImmutableArray<int> Workers);

/// <summary>FL on the forest: subscribe every app's workers through the protocol, then snapshot the trees it formed.</summary>
internal partial class ForestDriver
{
    /// <summary>The zone an app's topic is homed in: its key modulo the zone count, so roots spread over zones.</summary>
    public int HomeZoneOf(TopicId topic) => (int)(topic.Key.Value % (UInt128)Topology.ZoneCentres.Length);

    /// <summary>
    /// Subscribes each app's workers (Scribe joins routed toward the app's key, <paramref name="spacing"/> apart, apps
    /// interleaved), lets the forest settle for <paramref name="settle"/>, and returns the trees as an
    /// <see cref="IFlTopology"/> in which node i is <paramref name="addresses"/>[i]. Throws if a worker is not
    /// attached to its app's tree after settling.
    /// </summary>
    public ForestTopology GrowTrees(IReadOnlyList<ForestApp> apps, IReadOnlyList<Address> addresses, TimeSpan spacing, TimeSpan settle)
    {
        ArgumentNullException.ThrowIfNull(apps);
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Count != Count)
        {
            throw new ArgumentException($"need one address per forest node ({Count}), got {addresses.Count}", nameof(addresses));
        }

        var start = Now;
        var joins = apps
            .SelectMany(app => app.Workers.Select((node, i) => (Order: i, App: app, Node: node)))
            .OrderBy(j => j.Order)
            .Select((j, k) => (At: start + (spacing * k), j.App, j.Node))
            .ToList();
        foreach (var (at, app, node) in joins)
        {
            var topic = TopicId.For(app.Name);
            At(at, () => Subscribe(node, topic, HomeZoneOf(topic)));
        }

        RunUntil(start + (spacing * joins.Count) + settle);
        var topology = ForestTopology.Empty;
        foreach (var app in apps)
        {
            var (root, parents) = TreeOf(TopicId.For(app.Name));
            var missing = app.Workers.Where(w => w != root && !parents.ContainsKey(w)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidOperationException($"app '{app.Name}': {missing.Count} workers are not attached after settling (first: node {missing[0]})");
            }

            topology = topology.WithTree(
                app.Name,
                addresses[root],
                [.. app.Workers.Select(w => addresses[w])],
                parents.ToDictionary(p => addresses[p.Key], p => addresses[p.Value]));
        }

        return topology;
    }

    /// <summary>
    /// The tree of <paramref name="topic"/> as the nodes hold it: the home root and every other attached member's parent.
    /// Validated by walking every member up to the root (throws on a loop, a dead parent, or a parent that does not list
    /// the member as a child).
    /// </summary>
    public (int Root, ImmutableDictionary<int, int> Parents) TreeOf(TopicId topic)
    {
        var root = RootOf(topic) ?? throw new InvalidOperationException($"{topic} has no single live home root");
        var depths = WalkToRoot(topic);
        var parents = depths.Keys
            .Where(n => n != root)
            .ToImmutableDictionary(n => n, n => forests[n]!.Trees[topic].Parent!.Value.Address.Value);
        return (root, parents);
    }

    /// <summary>The most children any live node keeps in <paramref name="topic"/>'s tree.</summary>
    public int MaxChildren(TopicId topic) =>
        LiveNodes.Select(n => forests[n]!.Trees.GetValueOrDefault(topic)?.Children.Length ?? 0).DefaultIfEmpty(0).Max();
}
