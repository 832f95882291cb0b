using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>The known nodes a routing decision draws on: the final-approach target and the progressing alternatives.</summary>
internal static partial class RouteDecider
{
    /// <summary>
    /// Pastry's final approach, generalised: once the key is within leaf-set reach of a known node, hop straight to the
    /// numerically closest such node instead of extending the prefix by one digit. Its leaf set (about as wide as ours)
    /// then almost surely covers the key, so the route ends there or one leaf hop later; the slot entry, one digit
    /// further but anywhere in its block, may be farther and need a table hop of its own. Only valid hops count: a
    /// longer prefix, or (prefix ≥ <paramref name="shared"/> and strictly closer) — once converging, strictly closer —
    /// so (shared prefix, −distance) still strictly increases and no route can loop. Null when the leaf set is not full
    /// (a small ring: the other rules already see every node) or no valid node is that close.
    /// </summary>
    private static PeerEntry? NearestWithinReach(
        NodeId self, NodeId key, LeafSet leafSet, RoutingTable table, NeighborhoodSet neighborhood, int shared, bool converging)
    {
        if (leafSet.Clockwise.Length < leafSet.HalfSize || leafSet.CounterClockwise.Length < leafSet.HalfSize)
        {
            return null;
        }

        var clockwiseReach = self.ClockwiseTo(leafSet.Clockwise[^1].Id);
        var counterReach = self.CounterClockwiseTo(leafSet.CounterClockwise[^1].Id);
        var reach = clockwiseReach < counterReach ? clockwiseReach : counterReach;
        var geometry = table.Geometry;
        PeerEntry? best = null;
        var bestDistance = UInt128.MaxValue;
        void Consider(in PeerEntry entry)
        {
            var distance = entry.Id.DistanceTo(key);
            if (distance > reach || distance > bestDistance || (distance == bestDistance && best is { } current && !entry.Id.IsCloserTo(key, current.Id)))
            {
                return;
            }

            var valid = entry.Id.IsCloserTo(key, self)
                ? converging || geometry.SharedPrefixLength(entry.Id, key) >= shared
                : !converging && geometry.SharedPrefixLength(entry.Id, key) > shared;
            if (valid)
            {
                best = entry;
                bestDistance = distance;
            }
        }

        foreach (var entry in leafSet.Clockwise)
        {
            Consider(entry);
        }

        foreach (var entry in leafSet.CounterClockwise)
        {
            Consider(entry);
        }

        for (var row = 0; row < table.Depth; row++)
        {
            foreach (var entry in table.Row(row))
            {
                Consider(entry);
            }
        }

        foreach (var entry in neighborhood.Entries)
        {
            Consider(entry);
        }

        return best;
    }

    /// <summary>
    /// Known nodes strictly closer to the key than <paramref name="self"/>, nearest first, excluding
    /// <paramref name="exclude"/>; with <paramref name="minimumPrefix"/> ≥ 0 only those sharing more than that many digits.
    /// </summary>
    private static ImmutableArray<PeerEntry> Progressing(
        NodeId self, NodeId key, LeafSet leafSet, RoutingTable table, NeighborhoodSet neighborhood, NodeId? exclude, int minimumPrefix)
    {
        var found = new List<PeerEntry>();
        void Consider(PeerEntry entry)
        {
            if (entry.Id != exclude && entry.Id.IsCloserTo(key, self) &&
                (minimumPrefix < 0 || table.Geometry.SharedPrefixLength(entry.Id, key) > minimumPrefix) &&
                found.FindIndex(existing => existing.Id == entry.Id) < 0)
            {
                found.Add(entry);
            }
        }

        foreach (var entry in leafSet.Members())
        {
            Consider(entry);
        }

        foreach (var entry in table.Entries())
        {
            Consider(entry);
        }

        foreach (var entry in neighborhood.Entries)
        {
            Consider(entry);
        }

        found.Sort((left, right) => left.Id.IsCloserTo(key, right.Id) ? -1 : left.Id == right.Id ? 0 : 1);
        return [.. found];
    }
}
