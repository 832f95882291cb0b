using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

internal enum RouteRule
{
    /// <summary>No known node is closer to the key than this one.</summary>
    DeliverHere,

    /// <summary>The key lies in the leaf-set range; the candidate is the leaf numerically closest to it.</summary>
    LeafSet,

    /// <summary>Routing-table slot R[l][key_l]: the candidates share one more digit with the key.</summary>
    RoutingTable,

    /// <summary>The slot is empty: a known node with prefix ≥ l that is numerically closer.</summary>
    RareCase,

    /// <summary>
    /// Final approach: the numerically closest known node that is a valid hop (longer prefix, or at least as long and
    /// closer) lies within this node's leaf-set reach of the key, so its own leaf set very likely covers the key.
    /// </summary>
    NearKey,
}

/// <summary>
/// A routing decision. Every option (<see cref="Candidates"/> and <see cref="Alternatives"/>) either shares a longer
/// prefix with the key than the deciding node (a routing-table hop), or shares at least as long a prefix and is
/// strictly closer under <see cref="NodeId.IsCloserTo"/>, or — leaf-set rule, or a route already
/// <see cref="RouteMessage.Converging"/> — is strictly closer. See <see cref="RouteDecider"/> for why no route can loop.
/// </summary>
internal sealed class RouteDecision
{
    private Func<ImmutableArray<PeerEntry>>? pendingAlternatives;
    private ImmutableArray<PeerEntry> alternatives;

    public RouteDecision(RouteRule rule, ImmutableArray<PeerEntry> candidates, ImmutableArray<PeerEntry> alternatives)
    {
        Rule = rule;
        Candidates = candidates;
        this.alternatives = alternatives;
    }

    /// <summary>
    /// A decision whose alternatives are listed only if a planner asks: the default planner never does, and listing them
    /// (every known node closer to the key, sorted) was most of the cost of a routing decision.
    /// </summary>
    public RouteDecision(RouteRule rule, ImmutableArray<PeerEntry> candidates, Func<ImmutableArray<PeerEntry>> alternatives)
    {
        Rule = rule;
        Candidates = candidates;
        pendingAlternatives = alternatives;
    }

    public static RouteDecision DeliverHere { get; } = new(RouteRule.DeliverHere, [], []);

    public RouteRule Rule { get; }

    public ImmutableArray<PeerEntry> Candidates { get; }

    public ImmutableArray<PeerEntry> Alternatives
    {
        get
        {
            if (pendingAlternatives is { } list)
            {
                alternatives = list();
                pendingAlternatives = null;
            }

            return alternatives;
        }
    }

    public bool IsDeliverHere => Rule == RouteRule.DeliverHere;
}

/// <summary>Chooses the next hop among a decision's valid options (the path-planning seam).</summary>
internal interface INextHopPlanner
{
    PeerEntry Choose(NodeId key, RouteDecision decision);
}

/// <summary>
/// A planner that learns from realized hop costs. The ring shell reports, for every acknowledged routed hop, how long
/// the next hop at <c>nextHop</c> took to acknowledge the message routed toward <c>key</c> (send → <see cref="HopAck"/>).
/// </summary>
internal interface IHopFeedback
{
    void ObserveHop(NodeId key, NodeAddress nextHop, TimeSpan elapsed);
}

/// <summary>Default planner: the lowest-RTT entry among the rule's candidates.</summary>
internal sealed class LowestRttPlanner : INextHopPlanner
{
    public static LowestRttPlanner Instance { get; } = new();

    public PeerEntry Choose(NodeId key, RouteDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Candidates.IsDefaultOrEmpty)
        {
            throw new ArgumentException("A deliver-here decision has no next hop.", nameof(decision));
        }

        var best = decision.Candidates[0];
        foreach (var candidate in decision.Candidates)
        {
            if (RoutingTable.CompareByProximity(candidate, best) < 0)
            {
                best = candidate;
            }
        }

        return best;
    }
}

/// <summary>
/// The Pastry routing rule over one node's state. A route has two phases. While it is <em>prefix routing</em> (the
/// default), a hop goes to a routing-table entry that shares one more digit with the key even when that entry is
/// numerically farther than this node (Pastry's rule: a node just across a digit boundary from the key is numerically
/// close to it but no closer in prefix, and only the table entry makes progress), or, when that slot is empty, to a
/// node with at least as long a prefix that is numerically closer. Each such hop strictly increases (shared prefix,
/// −distance) lexicographically, so no node is visited twice in this phase. The first hop that cannot keep that
/// order — a leaf-set hop, or a fallback to a closer node with a shorter prefix — switches the route to
/// <em>converging</em> (<see cref="Next"/>, carried in <see cref="RouteMessage.Converging"/>), and from then on every
/// option is strictly closer numerically, so distance strictly decreases. A route therefore visits a node at most
/// once per phase, and ends even when routing state is inconsistent.
/// </summary>
internal static partial class RouteDecider
{
    /// <summary>Whether the route is converging after the hop from <paramref name="self"/> to <paramref name="next"/> under <paramref name="decision"/>.</summary>
    public static bool Next(bool converging, RouteDecision decision, IdGeometry geometry, NodeId self, NodeId next, NodeId key)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return converging || decision.Rule == RouteRule.LeafSet ||
               geometry.SharedPrefixLength(next, key) < geometry.SharedPrefixLength(self, key) ||
               (geometry.SharedPrefixLength(next, key) == geometry.SharedPrefixLength(self, key) && !next.IsCloserTo(key, self));
    }

    /// <summary>
    /// Whether a row-<paramref name="row"/> slot block holds at most ~2 nodes: no wider than an eighth of the full leaf
    /// set's span. Never row 0: a ring whose row-0 blocks are that small has at most ~2·L nodes, its routes take one or
    /// two hops either way, and its Scribe trees are shaped by the proximity choice of those hops.
    /// </summary>
    private static bool IsNearlyEmptyBlock(LeafSet leafSet, IdGeometry geometry, int row)
    {
        return row > 0 && leafSet.FullSpan is { } span && geometry.BlockWidth(row) <= span / 8;
    }

    public static RouteDecision Decide(NodeId self, LeafSet leafSet, RoutingTable table, NeighborhoodSet neighborhood, NodeId key, bool converging = false)
    {
        ArgumentNullException.ThrowIfNull(leafSet);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(neighborhood);
        if (key == self)
        {
            return RouteDecision.DeliverHere;
        }

        var geometry = table.Geometry;
        if (leafSet.Covers(key))
        {
            PeerEntry? closest = null;
            foreach (var leaf in leafSet.Members())
            {
                if (leaf.Id.IsCloserTo(key, closest?.Id ?? self))
                {
                    closest = leaf;
                }
            }

            return closest is { } target
                ? new RouteDecision(RouteRule.LeafSet, [target], () => Progressing(self, key, leafSet, table, neighborhood, target.Id, -1))
                : RouteDecision.DeliverHere;
        }

        var shared = geometry.SharedPrefixLength(self, key);
        var slot = table.Slot(shared, geometry.Digit(key, shared));
        if (NearestWithinReach(self, key, leafSet, table, neighborhood, shared, converging) is { } near &&
            (slot.IndexOfId(near.Id) < 0 || IsNearlyEmptyBlock(leafSet, geometry, shared)))
        {
            // The closest valid node is not a slot candidate (when it is, the planner still picks among the slot's
            // candidates by RTT: proximity routing keeps its choice), or the slot's block is nearly empty: there the
            // candidates are no proximity choice among equivalent nodes, and the key's closest ends the route.
            // Alternatives: what the table rule would have offered (the slot's candidates, then closer nodes with a
            // longer prefix), so planners keep the strategy sets they had.
            var nearId = near.Id;
            var slotEntries = slot.ToArray();
            return new RouteDecision(RouteRule.NearKey, [near], () =>
            [
                .. slotEntries.Where(entry => entry.Id != nearId && (!converging || entry.Id.IsCloserTo(key, self))),
                .. Progressing(self, key, leafSet, table, neighborhood, nearId, converging ? -1 : shared)
                    .Where(entry => Array.FindIndex(slotEntries, existing => existing.Id == entry.Id) < 0),
            ]);
        }

        var fromSlot = ImmutableArray.CreateBuilder<PeerEntry>(slot.Length);
        foreach (var entry in slot)
        {
            if (!converging || entry.Id.IsCloserTo(key, self))
            {
                fromSlot.Add(entry);
            }
        }

        if (fromSlot.Count > 0)
        {
            var chosen = fromSlot.ToImmutable();
            return new RouteDecision(RouteRule.RoutingTable, chosen, () => Progressing(self, key, leafSet, table, neighborhood, null, shared)
                .RemoveAll(entry => chosen.AsSpan().IndexOfId(entry.Id) >= 0));
        }

        var progressing = Progressing(self, key, leafSet, table, neighborhood, null, -1);
        if (progressing.IsEmpty)
        {
            return RouteDecision.DeliverHere;
        }

        // Pastry's rare case prefers nodes that keep the shared prefix; any strictly closer node is still safe (a hop
        // to one with a shorter prefix makes the route converging, see Next).
        var preferred = progressing.FirstOrDefault(entry => geometry.SharedPrefixLength(entry.Id, key) >= shared, progressing[0]);
        return new RouteDecision(RouteRule.RareCase, [preferred], progressing.RemoveAll(entry => entry.Id == preferred.Id));
    }
}
