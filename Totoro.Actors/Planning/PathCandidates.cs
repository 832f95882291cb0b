using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Planning;

/// <summary>
/// The valid alternatives at a routing hop and at a tree parent choice. Every next hop is strictly closer to the key
/// than the deciding node (<see cref="RouteDecision"/>'s invariant), so any choice keeps routes loop-free and keeps
/// Scribe's prefix property: a parent is a valid next hop of its child toward the topic key.
/// </summary>
internal static class PathCandidates
{
    /// <summary>
    /// All next hops a decision allows: the rule's candidates (the routing-table slot's entries, nearest first, or the
    /// closest leaf) followed by the alternatives (leaf-set, table and neighbourhood members that make progress).
    /// Empty for deliver-here.
    /// </summary>
    public static ImmutableArray<PeerEntry> NextHops(RouteDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.IsDeliverHere)
        {
            return [];
        }

        var all = ImmutableArray.CreateBuilder<PeerEntry>(decision.Candidates.Length + decision.Alternatives.Length);
        foreach (var entry in decision.Candidates.Concat(decision.Alternatives))
        {
            if (all.All(existing => existing.Id != entry.Id))
            {
                all.Add(entry);
            }
        }

        return all.ToImmutable();
    }

    /// <summary>
    /// The nodes that can adopt <paramref name="child"/> in a tree: its next hops toward the topic key that are below
    /// the fan-out cap (the current parent always qualifies: keeping it adds no child) and not in the child's own
    /// subtree (no loop). When all next hops are full, Scribe's push-down applies: the children of the full next hops
    /// that have room and are outside the child's subtree, descending level by level until one has room.
    /// </summary>
    public static ImmutableArray<int> Parents(int child, ReadOnlySpan<int> nextHops, ITreeView tree, int fanOutCap)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var current = tree.ParentOf(child);
        var result = ImmutableArray.CreateBuilder<int>();
        foreach (var hop in nextHops)
        {
            if ((hop == current || tree.ChildCount(hop) < fanOutCap) && !tree.IsInSubtree(hop, child) && !result.Contains(hop))
            {
                result.Add(hop);
            }
        }

        if (result.Count > 0)
        {
            return result.ToImmutable();
        }

        // Push-down, level by level below the full next hops, until some node has room.
        var frontier = new List<int>();
        foreach (var hop in nextHops)
        {
            frontier.Add(hop);
        }

        var visited = new HashSet<int>(frontier);
        while (result.Count == 0 && frontier.Count > 0)
        {
            var below = new List<int>();
            foreach (var node in frontier)
            {
                foreach (var grandchild in tree.ChildrenOf(node))
                {
                    if (!visited.Add(grandchild) || tree.IsInSubtree(grandchild, child))
                    {
                        continue;
                    }

                    below.Add(grandchild);
                    if (tree.ChildCount(grandchild) < fanOutCap)
                    {
                        result.Add(grandchild);
                    }
                }
            }

            frontier = below;
        }

        return result.ToImmutable();
    }
}

/// <summary>A read-only view of one tree over node indices, as <see cref="PathCandidates.Parents"/> needs it.</summary>
internal interface ITreeView
{
    /// <summary>The node's parent, or −1 for the root and for nodes outside the tree.</summary>
    int ParentOf(int node);

    int ChildCount(int node);

    IEnumerable<int> ChildrenOf(int node);

    /// <summary>True when <paramref name="node"/> is <paramref name="ancestor"/> or lies below it.</summary>
    bool IsInSubtree(int node, int ancestor);
}
