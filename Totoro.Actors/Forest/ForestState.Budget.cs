using System.Collections.Immutable;

namespace Totoro.Actors.Forest;

/// <summary>
/// The cross-tree child budget (<see cref="ForestSettings.NodeChildBudget"/>): what one node takes on for trees other
/// than the one a subscribe is for, and how a node that is the root of several trees shares its uplink between them
/// (docs/architecture.md, "Cross-tree child budget").
/// </summary>
internal sealed partial record ForestState
{
    /// <summary>Children this node keeps, summed over all its trees.</summary>
    public int ChildLoad => Trees.Values.Sum(tree => tree.Children.Length);

    /// <summary>
    /// What <see cref="ForestSettings.NodeChildBudget"/> limits for a subscribe of <paramref name="topic"/>: the children
    /// this node keeps in its *other* trees, where a tree it is the root (or a zone head) of counts as full (the fan-out
    /// cap) from the start. A root must accept every subscribe that reaches it, and its tree fills only as the
    /// subscribes arrive, so it reserves that load up front rather than first filling its budget with forwarding for
    /// other trees. Children of <paramref name="topic"/>'s own tree never count: a single tree is shaped by the fan-out
    /// cap alone, exactly as without a budget.
    /// </summary>
    public int OtherTreesLoad(TopicId topic)
    {
        var load = 0;
        foreach (var (other, tree) in Trees)
        {
            if (other != topic)
            {
                load += tree.IsScopeRoot ? Math.Max(tree.Children.Length, Settings.FanOutCap) : tree.Children.Length;
            }
        }

        return load;
    }

    /// <summary>
    /// Whether this node is at its cross-tree child budget for <paramref name="topic"/>: a subscribe routed through it
    /// then continues toward the key (transparent forwarding) instead of being adopted here. Loop-free: nothing
    /// changes here, and the route still progresses to the node closest to the key, the root, which always accepts.
    /// </summary>
    private bool AtChildBudget(TopicId topic) => Settings.NodeChildBudget > 0 && OtherTreesLoad(topic) >= Settings.NodeChildBudget;

    /// <summary>
    /// When this node is the scope root (root or zone head) of <paramref name="tree"/> and also of a tree that comes first
    /// (<see cref="RootsFirst"/>), and already keeps <see cref="ForestSettings.NodeChildBudget"/> <see cref="Counted"/>
    /// children in <paramref name="tree"/>: those children, to push a counted newcomer down to. Otherwise null.
    /// </summary>
    /// <remarks>
    /// A node is the scope root of a tree by hashing, so two trees' roots can fall on one node (with 20 apps on 4 zones,
    /// a few nodes in 2,000). Each must accept every subscribe that reaches it, and without this the node would keep the
    /// fan-out cap in both and carry twice a root's uplink load. The second tree instead keeps the budget's worth of
    /// children and grows one level deeper below them. Zone heads of other zones are always adopted: a tree has at most
    /// one per zone, and pushing them down would chain zones.
    /// </remarks>
    private ImmutableArray<ChildInfo>? SecondaryRootChildren(TreeTopology tree)
    {
        if (Settings.NodeChildBudget == 0 || !tree.IsScopeRoot || !Trees.Values.Any(other => other.Topic != tree.Topic && other.IsScopeRoot && RootsFirst(other, tree)))
        {
            return null;
        }

        var counted = tree.Children.Where(child => Counted(tree, child.Zone)).ToImmutableArray();
        return counted.Length >= Settings.NodeChildBudget ? counted : null;
    }

    /// <summary>
    /// Whether a child of <paramref name="zone"/> counts against a second tree's budget at this scope root: members of
    /// this node's zone and of the tree's home zone do; zone heads of the other zones (at most one per zone) do not.
    /// </summary>
    private bool Counted(TreeTopology tree, int zone) => zone == Zone || zone == tree.HomeZone;

    /// <summary>
    /// Which of two trees this node is the scope root of keeps the full fan-out: a home root before a zone head, then the
    /// tree with more children (the one that grew first keeps growing), then the lower key. A total order, so exactly one
    /// of the node's scope-root trees is first.
    /// </summary>
    private static bool RootsFirst(TreeTopology left, TreeTopology right) =>
        left.IsHomeRoot != right.IsHomeRoot ? left.IsHomeRoot
        : left.Children.Length != right.Children.Length ? left.Children.Length > right.Children.Length
        : left.Topic.Key.Value < right.Topic.Key.Value;
}
