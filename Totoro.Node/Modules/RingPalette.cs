using System.Globalization;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Node.Ops;

namespace Totoro.Node.Modules;

/// <summary>The <c>ring</c> palette: this node's view of Layer 1 (leaf set, routing table, peers) and traced routes.</summary>
internal static class RingPalette
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    public static void Register(PaletteRegistry palettes, RingModule module) =>
        palettes.Add(new CommandPalette("ring", "this node in the ring (Layer 1): peers, leaf set, routing table, routes",
        [
            new PaletteCommand("members", "leaf set and every other peer this node knows, with measured RTT", [], call => Members(module, call)),
            new PaletteCommand("route", "route a probe toward hash(KEY), or KEY itself when it is 32 hex digits; the destination, hops and path",
                [new PaletteArgument("key", "a name (hashed like node names) or a 32-digit hex id")], call => Route(module, call)),
            new PaletteCommand("table", "routing table: one row per filled slot (row = shared prefix digits, column = next digit)", [], call => Table(module, call)),
            new PaletteCommand("leafset", "the leaf set, clockwise and counter-clockwise from this node, nearest first", [], call => LeafSetOf(module, call)),
        ]));

    /// <summary>The key a <c>ring route</c> argument names: a 32-digit hex id as is, anything else hashed like a node name.</summary>
    public static NodeId KeyOf(string text) =>
        text.Length == 32 && UInt128.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var id) ? new NodeId(id) : NodeId.FromName(text);

    private static async Task<RingNodeState> StateAsync(RingModule module, PaletteInvocation call)
    {
        var node = module.Node;
        try
        {
            var snapshot = await node.Ring.Ask<RingStateSnapshot>(GetRingState.Instance, AskTimeout, node.System).WaitAsync(call.Cancellation).ConfigureAwait(false);
            return snapshot.State.ZoneRing;
        }
        catch (TimeoutException)
        {
            throw new OpsCommandException("the ring actor did not answer (has this node left the ring?)");
        }
    }

    private static async Task<OpsTable> Members(RingModule module, PaletteInvocation call)
    {
        var state = await StateAsync(module, call).ConfigureAwait(false);
        var rows = state.KnownPeers()
            .OrderBy(p => p.Id)
            .Select(p => Row(module, p, Roles(state, p.Id)))
            .ToArray();
        return new OpsTable($"ring members seen by {Describe(module, state)}", ["id", "endpoint", "rtt-ms", "in"], rows);
    }

    private static async Task<OpsTable> Route(RingModule module, PaletteInvocation call)
    {
        var node = module.Node;
        var key = KeyOf(call.Arguments[0]);
        try
        {
            var result = await node.Trace.Ask<RingTraceResult>(new TraceRoute(key), node.Settings.RouteTimeout, node.System).WaitAsync(call.Cancellation).ConfigureAwait(false);
            return OpsTable.KeyValues($"route of {call.Arguments[0]}",
            [
                ("key", result.Key),
                ("destination-id", result.DestinationId),
                ("destination", result.Destination),
                ("hops", result.Hops.ToString(CultureInfo.InvariantCulture)),
                ("path", string.Join(" -> ", result.Path)),
            ]);
        }
        catch (TimeoutException)
        {
            throw new OpsCommandException($"no destination answered within {node.Settings.RouteTimeout} (node still joining, or the route was dropped; see the node's log)");
        }
    }

    private static async Task<OpsTable> Table(RingModule module, PaletteInvocation call)
    {
        var state = await StateAsync(module, call).ConfigureAwait(false);
        var table = state.Table;
        var rows = new List<IReadOnlyList<string>>();
        for (var row = 0; row < table.Depth; row++)
        {
            for (var column = 0; column < table.Geometry.Columns; column++)
            {
                var slot = table.Slot(row, column);
                if (slot.Length > 0)
                {
                    var candidates = string.Join(", ", slot.ToArray().Select(p => $"{p.Id.ToShortString()}@{module.Endpoints.EndpointOf(p.Address) ?? p.Address.ToString()} {Rtt(p)}ms"));
                    rows.Add([row.ToString(CultureInfo.InvariantCulture), column.ToString("x", CultureInfo.InvariantCulture), candidates]);
                }
            }
        }

        return new OpsTable($"routing table of {Describe(module, state)}", ["row", "column", "candidates"], rows);
    }

    private static async Task<OpsTable> LeafSetOf(RingModule module, PaletteInvocation call)
    {
        var state = await StateAsync(module, call).ConfigureAwait(false);
        var rows = new List<IReadOnlyList<string>>();
        var leaves = state.Leaves;
        for (var i = 0; i < leaves.Clockwise.Length; i++)
        {
            rows.Add(["cw", (i + 1).ToString(CultureInfo.InvariantCulture), .. Row(module, leaves.Clockwise[i], "")[..3]]);
        }

        for (var i = 0; i < leaves.CounterClockwise.Length; i++)
        {
            rows.Add(["ccw", (i + 1).ToString(CultureInfo.InvariantCulture), .. Row(module, leaves.CounterClockwise[i], "")[..3]]);
        }

        return new OpsTable($"leaf set of {Describe(module, state)}", ["side", "position", "id", "endpoint", "rtt-ms"], rows);
    }

    private static string Describe(RingModule module, RingNodeState state) =>
        $"{state.Self.Id} @{module.Endpoints.EndpointOf(state.Self.Address)} ({state.Phase.ToString().ToLowerInvariant()}" +
        (module.Endpoints.Collisions > 0 ? $", handle collisions seen {module.Endpoints.Collisions} times: a second endpoint with a taken handle is unreachable)" : ")");

    private static string[] Row(RingModule module, PeerEntry peer, string roles) =>
        [peer.Id.ToString(), module.Endpoints.EndpointOf(peer.Address) ?? peer.Address.ToString(), Rtt(peer), roles];

    private static string Rtt(PeerEntry peer) =>
        peer.HasRtt ? (peer.RttMicros / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) : "-";

    private static string Roles(RingNodeState state, NodeId id) =>
        string.Join(",", new[]
        {
            state.Leaves.Contains(id) ? "leafset" : null,
            state.Table.Contains(id) ? "table" : null,
            state.Neighbors.Contains(id) ? "neighborhood" : null,
        }.Where(r => r is not null));
}
