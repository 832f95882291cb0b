using System.Collections.Immutable;
using System.Globalization;
using Totoro.Kernel.Hocon;
using Totoro.Node.Hosting;

namespace Totoro.Node.Ops;

/// <summary>The palettes every node serves: <c>node</c> and <c>cluster</c>.</summary>
internal static class BuiltInPalettes
{
    /// <summary>Config keys whose last segment contains one of these print as <c>***</c>.</summary>
    private static readonly ImmutableArray<string> SecretWords = ["secret", "token", "password", "key"];

    public static void Register(PaletteRegistry palettes)
    {
        palettes.Add(new CommandPalette("node", "this node: identity, configuration, actors, metrics",
        [
            new PaletteCommand("info", "name, address, zone, cluster, uptime, modules", [], Info),
            new PaletteCommand("config", "the resolved configuration (secrets redacted); optionally one section", [new PaletteArgument("path", "a section such as totoro.remote", Required: false)], Config),
            new PaletteCommand("actors", "the tree of actor paths under /user", [], Actors),
            new PaletteCommand("metrics", "a reading of every Totoro instrument of this node", [new PaletteArgument("prefix", "only instruments starting with this", Required: false)], Metrics),
            new PaletteCommand("leave", "leave the cluster gracefully and stop the node (modules hand off first)", [], Leave),
        ]));
        palettes.Add(new CommandPalette("cluster", "the seeds and peers this node knows",
        [
            new PaletteCommand("members", "seeds and peers, with status (joining, up, down)", [], Members),
            new PaletteCommand("connections", "peers with an authenticated TCP connection right now", [], Connections),
        ]));
    }

    private static Task<OpsTable> Info(PaletteInvocation call)
    {
        var node = call.Node;
        var s = node.Settings;
        var uptime = node is TotoroNode running ? node.System.Time.GetUtcNow() - running.StartedAt : TimeSpan.Zero;
        return Task.FromResult(OpsTable.KeyValues("node info",
        [
            ("name", s.Name),
            ("address", node.Address.ToString()),
            ("cluster", s.ClusterName),
            ("zone", s.Zone),
            ("data-dir", s.DataDir),
            ("seed-nodes", string.Join(", ", s.SeedNodes)),
            ("modules", string.Join(", ", node.Modules.Select(m => m.Name))),
            ("palettes", string.Join(", ", node.Palettes.Palettes.Select(p => p.Name))),
            ("uptime", uptime.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture)),
            ("tls", (s.Tls is not null).ToString()),
            ("otlp", s.Otlp.Enabled ? s.Otlp.Endpoint : "off"),
        ]));
    }

    private static Task<OpsTable> Config(PaletteInvocation call)
    {
        var root = call.Node.Config.Root;
        var prefix = call.Arguments.Count > 0 ? call.Arguments[0] : "totoro";
        var rows = new List<(string, string)>();
        Flatten(root, "", rows);
        var selected = rows.Where(r => r.Item1 == prefix || r.Item1.StartsWith(prefix + ".", StringComparison.Ordinal)).ToArray();
        if (selected.Length == 0)
        {
            throw new OpsCommandException($"no configuration under '{prefix}'");
        }
        return Task.FromResult(OpsTable.KeyValues($"config {prefix}", selected));
    }

    private static void Flatten(HoconValue value, string path, List<(string, string)> rows)
    {
        switch (value)
        {
            case HoconObject obj:
                foreach (var key in obj.Keys.Order(StringComparer.Ordinal))
                {
                    Flatten(obj.Fields[key], path.Length == 0 ? key : $"{path}.{key}", rows);
                }
                break;
            case HoconArray array:
                rows.Add((path, IsSecret(path) ? "***" : "[" + string.Join(", ", array.Items.Select(i => i.ToString())) + "]"));
                break;
            default:
                rows.Add((path, IsSecret(path) ? "***" : value.ToString() ?? ""));
                break;
        }
    }

    private static bool IsSecret(string path)
    {
        var last = path[(path.LastIndexOf('.') + 1)..];
        return SecretWords.Any(w => last.Contains(w, StringComparison.OrdinalIgnoreCase));
    }

    private static Task<OpsTable> Actors(PaletteInvocation call)
    {
        var rows = call.Node.System.UserActorPaths()
            .Select(p => (IReadOnlyList<string>)[new string(' ', 2 * (p.Elements.Count(c => c == '/') - 2)) + p.Name, p.Elements])
            .ToArray();
        return Task.FromResult(new OpsTable("actors", ["actor", "path"], rows));
    }

    private static Task<OpsTable> Metrics(PaletteInvocation call)
    {
        var prefix = call.Arguments.Count > 0 ? call.Arguments[0] : "";
        var rows = call.Node.CollectMetrics()
            .Where(m => m.Instrument.StartsWith(prefix, StringComparison.Ordinal))
            .Select(m => (IReadOnlyList<string>)[m.Instrument, m.Value.ToString(CultureInfo.InvariantCulture), m.Unit, m.Tags])
            .ToArray();
        return Task.FromResult(new OpsTable("metrics", ["instrument", "value", "unit", "tags"], rows));
    }

    private static Task<OpsTable> Leave(PaletteInvocation call)
    {
        // The answer goes out first; the host starts stopping a moment later.
        if (call.Node is not TotoroNode node || !node.ScheduleLeave(TimeSpan.FromMilliseconds(300)))
        {
            throw new OpsCommandException("this node is not run by a host that can stop it");
        }
        return Task.FromResult(OpsTable.KeyValues("node leave", [("node", node.Settings.Name), ("status", "leaving")]));
    }

    private static async Task<OpsTable> Members(PaletteInvocation call)
    {
        var view = await call.Node.GetMembersAsync(call.Cancellation).ConfigureAwait(false);
        var rows = view.Members.Values
            .Select(m => (IReadOnlyList<string>)[m.Address.ToString(), m.Name, m.Zone, m.Status.ToString().ToLowerInvariant(), m.Seed ? "yes" : "no", m.Since.ToString("u", CultureInfo.InvariantCulture)])
            .ToArray();
        return new OpsTable($"members seen by {view.Self}", ["address", "name", "zone", "status", "seed", "since"], rows);
    }

    private static Task<OpsTable> Connections(PaletteInvocation call)
    {
        if (call.Node is not TotoroNode node)
        {
            throw new OpsCommandException("this node has no TCP transport");
        }
        var rows = node.Transport.Tcp.ConnectedPeers()
            .OrderBy(p => p.Address)
            .Select(p => (IReadOnlyList<string>)[p.Address.ToString(), p.NodeId, p.Direction.ToString().ToLowerInvariant(), p.Incarnation.ToString(CultureInfo.InvariantCulture)])
            .ToArray();
        return Task.FromResult(new OpsTable("connections", ["address", "node-id", "direction", "incarnation"], rows));
    }
}
