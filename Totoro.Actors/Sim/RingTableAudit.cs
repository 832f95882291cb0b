using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Sim;

/// <summary>
/// How complete the routing tables are against the live membership: a slot (r, c) of node x is <em>ideal</em> when
/// some live node shares r digits with x and has digit c at position r, and a <em>hole</em> when it is ideal but
/// empty. <see cref="HolesPerNodeByRow"/>[r] is the mean number of holes in row r.
/// </summary>
internal sealed record TableAudit(int Nodes, double IdealSlotsPerNode, double FilledSlotsPerNode, double FillRatio, ImmutableArray<double> HolesPerNodeByRow)
{
    public static TableAudit Empty { get; } = new(0, 0, 0, 0, []);
}

/// <summary>
/// Lookups replayed over a snapshot of every node's state with the routing rule (<see cref="RouteDecider"/>) and the
/// lowest-RTT planner, hop by hop, to see which rule each hop used. A <em>hole hop</em> is a hop taken at a node whose
/// slot for the key was a hole (so it fell back to the rare case); a <em>border hop</em> a rare-case hop at a node
/// whose slot for the key held entries, none numerically closer to the key than the node itself (the node lies
/// just across a digit boundary from the key). <em>Long routes</em> are those longer than
/// ⌈log₂ᵇ N⌉ hops; <see cref="LongRouteExamples"/> spells out the longest few as rule letters (T = table, R = rare
/// case with no node of that prefix, R! = rare case at a hole, r = border hop, L = leaf set), each followed by the digits the next node shares with the key.
/// </summary>
internal sealed record RouteAudit(
    int Routes,
    double MeanHops,
    int MaxHops,
    long TableHops,
    long RareCaseHops,
    long LeafSetHops,
    long HoleHops,
    long BorderHops,
    int LongRouteThreshold,
    int LongRoutes,
    ImmutableArray<string> LongRouteExamples)
{
    public static RouteAudit Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, []);

    /// <summary>Hops under the final-approach rule (<see cref="RouteRule.NearKey"/>, 'N' in the examples).</summary>
    public long NearKeyHops { get; init; }
}

/// <summary>Audits of a ring's routing state from a snapshot of all live nodes' states (simulation only: it reads every node).</summary>
internal static class RingTableAudit
{
    private const int ExampleCount = 6;

    /// <summary>Table completeness of every state in <paramref name="states"/> against the live ids <paramref name="sorted"/>.</summary>
    public static TableAudit Tables(IReadOnlyList<RingNodeState> states, NodeId[] sorted)
    {
        if (states.Count == 0)
        {
            return TableAudit.Empty;
        }

        var geometry = states[0].Settings.Geometry;
        var holesByRow = new List<long>();
        long ideal = 0, filled = 0;
        foreach (var state in states)
        {
            for (var row = 0; (row + 1) * geometry.BitsPerDigit <= 128; row++)
            {
                var rowIdeal = 0;
                for (var column = 0; column < geometry.Columns; column++)
                {
                    if (column == geometry.Digit(state.Self.Id, row) || !Exists(sorted, state.Self.Id, row, column, geometry))
                    {
                        continue;
                    }

                    rowIdeal++;
                    ideal++;
                    if (state.Table.Slot(row, column).Length > 0)
                    {
                        filled++;
                    }
                    else
                    {
                        while (holesByRow.Count <= row)
                        {
                            holesByRow.Add(0);
                        }

                        holesByRow[row]++;
                    }
                }

                if (rowIdeal == 0)
                {
                    break;
                }
            }
        }

        var n = (double)states.Count;
        return new TableAudit(states.Count, ideal / n, filled / n, ideal == 0 ? 1 : (double)filled / ideal, [.. holesByRow.Select(holes => holes / n)]);
    }

    /// <summary>
    /// Replays <paramref name="lookups"/> random (source, key) routes over <paramref name="states"/> (indexed by node
    /// address; null = not live). Deterministic for <paramref name="random"/>.
    /// </summary>
    public static RouteAudit Routes(IReadOnlyList<RingNodeState?> states, NodeId[] sorted, int lookups, Random random)
    {
        var live = Enumerable.Range(0, states.Count).Where(node => states[node] is not null).ToArray();
        if (live.Length == 0 || lookups <= 0)
        {
            return RouteAudit.Empty;
        }

        var geometry = states[live[0]]!.Settings.Geometry;
        var threshold = (int)Math.Ceiling(Math.Log(live.Length) / Math.Log(geometry.Columns) - 1e-9);
        long table = 0, rare = 0, leaf = 0, near = 0, holes = 0, border = 0, total = 0;
        var max = 0;
        var longRoutes = 0;
        var examples = new List<(int Hops, string Path)>();
        Span<byte> bytes = stackalloc byte[16];
        for (var lookup = 0; lookup < lookups; lookup++)
        {
            random.NextBytes(bytes);
            var key = new NodeId(new UInt128(BitConverter.ToUInt64(bytes), BitConverter.ToUInt64(bytes[8..])));
            var node = states[live[random.Next(live.Length)]]!;
            var path = new System.Text.StringBuilder();
            var hops = 0;
            var converging = false;
            while (hops < node.Settings.MaxHops)
            {
                var decision = node.Decide(key, converging);
                if (decision.IsDeliverHere)
                {
                    break;
                }

                var shared = geometry.SharedPrefixLength(node.Self.Id, key);
                switch (decision.Rule)
                {
                    case RouteRule.NearKey:
                        near++;
                        path.Append('N');
                        break;
                    case RouteRule.RoutingTable:
                        table++;
                        path.Append('T');
                        break;
                    case RouteRule.RareCase:
                        rare++;
                        if (shared < geometry.DigitCount && node.Table.Slot(shared, geometry.Digit(key, shared)).Length > 0)
                        {
                            border++;
                            path.Append('r');
                        }
                        else if (shared < geometry.DigitCount && Exists(sorted, key, shared, geometry.Digit(key, shared), geometry))
                        {
                            holes++;
                            path.Append("R!");
                        }
                        else
                        {
                            path.Append('R');
                        }

                        break;
                    default:
                        leaf++;
                        path.Append('L');
                        break;
                }

                var next = LowestRttPlanner.Instance.Choose(key, decision);
                converging = RouteDecider.Next(converging, decision, geometry, node.Self.Id, next.Id, key);
                node = states[next.Address.Value] ?? throw new InvalidOperationException($"route to a node that is not live: {next}");
                path.Append(geometry.SharedPrefixLength(node.Self.Id, key)).Append(' ');
                hops++;
            }

            total += hops;
            max = Math.Max(max, hops);
            if (hops > threshold)
            {
                longRoutes++;
                examples.Add((hops, path.ToString().TrimEnd()));
                examples.Sort((left, right) => right.Hops.CompareTo(left.Hops));
                if (examples.Count > ExampleCount)
                {
                    examples.RemoveAt(examples.Count - 1);
                }
            }
        }

        return new RouteAudit(lookups, (double)total / lookups, max, table, rare, leaf, holes, border, threshold, longRoutes, [.. examples.Select(example => example.Path)])
        {
            NearKeyHops = near,
        };
    }

    /// <summary>
    /// True when a live id shares the first <paramref name="row"/> digits of <paramref name="prefixOf"/> and has digit
    /// <paramref name="column"/> at position <paramref name="row"/>.
    /// </summary>
    private static bool Exists(NodeId[] sorted, NodeId prefixOf, int row, int column, IdGeometry geometry)
    {
        var bits = Math.Min(128, (row + 1) * geometry.BitsPerDigit);
        var shift = 128 - bits;
        var keepMask = row == 0 ? UInt128.Zero : ~((UInt128.One << (128 - (row * geometry.BitsPerDigit))) - 1);
        var low = (prefixOf.Value & keepMask) | ((UInt128)column << shift);
        var high = shift == 0 ? low : low | ((UInt128.One << shift) - 1);
        var at = Array.BinarySearch(sorted, new NodeId(low));
        var index = at >= 0 ? at : ~at;
        return index < sorted.Length && sorted[index].Value <= high;
    }
}
