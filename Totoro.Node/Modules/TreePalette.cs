using System.Globalization;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Node.Ops;

namespace Totoro.Node.Modules;

/// <summary>The <c>tree</c> palette: this node's part in every topic's tree (Layer 2): role, depth, parent, children.</summary>
internal static class TreePalette
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public static void Register(PaletteRegistry palettes, ForestModule module) =>
        palettes.Add(new CommandPalette("tree", "this node in the forest (Layer 2): topics, parent and children per topic, depth",
        [
            new PaletteCommand("topics", "every topic this node is part of: role, depth, parent, fan-out, subtree size, deliveries", [], call => Topics(module, call)),
            new PaletteCommand("show", "parent and children of one topic on this node",
                [new PaletteArgument("topic", "an application name (its topic key is hash(\"app:\" + name)) or a 32-digit hex key")], call => Show(module, call)),
            new PaletteCommand("join", "subscribe this node to an application's topic (home zone 0); deliveries are counted in `tree topics`",
                [new PaletteArgument("topic", "an application name or a 32-digit hex key")], call => Join(module, call)),
        ]));

    /// <summary>The topic a palette argument names: a 32-digit hex key as is, anything else an application name.</summary>
    public static TopicId TopicOf(string text) =>
        text.Length == 32 && UInt128.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var key) ? new TopicId(new NodeId(key)) : TopicId.For(text);

    private static async Task<ForestState> StateAsync(ForestModule module, PaletteInvocation call)
    {
        var node = module.Node;
        try
        {
            var snapshot = await node.Forest.Ask<ForestSnapshot>(GetTreeReport.Instance, AskTimeout, node.System).WaitAsync(call.Cancellation).ConfigureAwait(false);
            return snapshot.State;
        }
        catch (TimeoutException)
        {
            throw new OpsCommandException("the forest actor did not answer (has this node left?)");
        }
    }

    private static async Task<OpsTable> Topics(ForestModule module, PaletteInvocation call)
    {
        var state = await StateAsync(module, call).ConfigureAwait(false);
        var log = await module.Node.TopicLog.Ask<TopicLog>(GetTopicLog.Instance, AskTimeout, module.Node.System).WaitAsync(call.Cancellation).ConfigureAwait(false);
        var rows = state.Trees.Values.OrderBy(tree => tree.Topic.Key).Select(tree =>
        {
            var report = tree.Describe();
            var delivered = log.Delivered.GetValueOrDefault(tree.Topic);
            return (IReadOnlyList<string>)
            [
                tree.Topic.Key.ToString(),
                report.Role.ToString().ToLowerInvariant(),
                report.Depth.ToString(CultureInfo.InvariantCulture),
                report.Parent is { } parent ? Describe(module, parent) : "-",
                report.FanOut.ToString(CultureInfo.InvariantCulture),
                report.SubtreeSize.ToString(CultureInfo.InvariantCulture),
                report.IsAttached ? "yes" : "no",
                delivered.Count.ToString(CultureInfo.InvariantCulture),
                $"{report.LatePartials}/{report.DuplicatePartials}/{report.DuplicateMessages}",
            ];
        }).ToArray();
        return new OpsTable($"topics of {Describe(module, state.Self)}", ["topic", "role", "depth", "parent", "children", "subtree", "attached", "delivered", "late/dup-partials/dup-msgs"], rows);
    }

    private static async Task<OpsTable> Show(ForestModule module, PaletteInvocation call)
    {
        var topic = TopicOf(call.Arguments[0]);
        var state = await StateAsync(module, call).ConfigureAwait(false);
        if (state.Trees.GetValueOrDefault(topic) is not { } tree)
        {
            throw new OpsCommandException($"this node is not in the tree of {call.Arguments[0]} (topic {topic.Key})");
        }

        var rows = new List<IReadOnlyList<string>>();
        if (tree.Parent is { } parent)
        {
            rows.Add(["parent", parent.Id.ToString(), Endpoint(module, parent), tree.ParentZone.ToString(CultureInfo.InvariantCulture), "-"]);
        }

        rows.AddRange(tree.Children.Select(child => (IReadOnlyList<string>)
            ["child", child.Handle.Id.ToString(), Endpoint(module, child.Handle), child.Zone.ToString(CultureInfo.InvariantCulture), child.SubtreeSize.ToString(CultureInfo.InvariantCulture)]));
        var title = $"{topic.Key} on {Describe(module, state.Self)}: {tree.Role.ToString().ToLowerInvariant()} at depth {tree.Depth}, path [{string.Join(" ", tree.Path.Select(id => id.ToShortString()))}]";
        return new OpsTable(title, ["relation", "id", "endpoint", "zone", "subtree"], rows);
    }

    private static Task<OpsTable> Join(ForestModule module, PaletteInvocation call)
    {
        var topic = TopicOf(call.Arguments[0]);
        var node = module.Node;
        node.Forest.Tell(new JoinTopic(topic, 0, node.TopicLog));
        return Task.FromResult(OpsTable.KeyValues($"joining {call.Arguments[0]}", [("topic", topic.Key.ToString()), ("node", Describe(module, node.Self))]));
    }

    private static string Describe(ForestModule module, NodeHandle handle) => $"{handle.Id.ToShortString()}@{Endpoint(module, handle)}";

    private static string Endpoint(ForestModule module, NodeHandle handle) => module.Ring.Endpoints.EndpointOf(handle.Address) ?? handle.Address.ToString();
}
