using System.Globalization;
using Totoro.Actors.Ring;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;

namespace Totoro.Node.Modules;

/// <summary>
/// The ring module's settings (HOCON section <c>totoro.ring</c>, defaults in Totoro.Node's reference.conf).
/// <see cref="FromConfig"/> names the key path of every invalid value.
/// </summary>
/// <param name="NodeId">This node's ring id: <c>totoro.ring.node-id</c> (32 hex digits) or the hash of the node name.</param>
/// <param name="Zone">The zone ring this node joins (<c>totoro.ring.zone</c>, a small integer).</param>
/// <param name="Ring">The overlay's own settings (leaf set, table, timers).</param>
/// <param name="SeedWait">How long start waits for a seed to answer before a seed creates the ring alone.</param>
/// <param name="RouteTimeout">How long <c>ring route</c> waits for the destination's answer.</param>
internal sealed record RingModuleSettings(NodeId NodeId, int Zone, RingSettings Ring, TimeSpan SeedWait, TimeSpan RouteTimeout)
{
    /// <summary>The next-hop planner's settings (<c>totoro.planning</c>); static (lowest RTT) unless configured.</summary>
    public PlanningModuleSettings Planning { get; init; } = PlanningModuleSettings.Default;

    public const string Section = "totoro.ring";

    public static RingModuleSettings FromConfig(HoconConfig config, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(config);
        var ring = new SettingsReader(config, Section);
        var idText = ring.String("node-id");
        var nodeId = NodeId.FromName(nodeName);
        if (idText.Length > 0)
        {
            var valid = idText.Length <= 32 && UInt128.TryParse(idText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _);
            ring.Require(valid, "node-id", $"'{idText}' is not an id of at most 32 hex digits (leave it empty for the hash of the node name)");
            nodeId = valid ? NodeId.Parse(idText) : nodeId;
        }

        var bitsPerDigit = ring.Int("bits-per-digit", min: 1, max: 8);
        var leafSetSize = ring.Int("leaf-set-size", min: 2, max: 256);
        ring.Require(leafSetSize % 2 == 0, "leaf-set-size", "must be even (half on each side)");
        var overlay = RingSettings.Default with
        {
            Geometry = new IdGeometry(Math.Clamp(bitsPerDigit, 1, 8)),
            LeafSetSize = leafSetSize,
            CandidatesPerSlot = ring.Int("candidates-per-slot", min: 1, max: 16),
            NeighborhoodSize = ring.Int("neighborhood-size", min: 0, max: 256),
            HeartbeatInterval = ring.Duration("heartbeat-interval", min: TimeSpan.FromMilliseconds(10)),
            LeafSetExchangeInterval = ring.Duration("leaf-set-exchange-interval", min: TimeSpan.FromMilliseconds(10)),
            JoinRetryInterval = ring.Duration("join-retry-interval", min: TimeSpan.FromMilliseconds(10)),
            TombstoneTtl = ring.Duration("tombstone-ttl", min: TimeSpan.FromMilliseconds(10)),
            MaxHops = ring.Int("max-hops", min: 1, max: 63),
            HopAckTimeout = ring.Duration("hop-ack-timeout", min: TimeSpan.FromMilliseconds(1)),
            AnnounceRows = ring.Int("announce-rows", min: 0, max: 128),
            TableMaintenanceInterval = ring.Duration("table-maintenance-interval", min: TimeSpan.Zero),
            ProximityProbes = ring.Int("proximity-probes", min: 0, max: 1024),
            ProximityRefreshEvery = ring.Int("proximity-refresh-every", min: 1, max: 10_000),
            SparseExtraCandidates = ring.Int("sparse-extra-candidates", min: 0, max: 16),
        };
        var settings = new RingModuleSettings(
            nodeId,
            ring.Int("zone", min: 0, max: (1 << ZoneKeys.ZonePrefixBits) - 1),
            overlay,
            ring.Duration("seed-wait", min: TimeSpan.Zero),
            ring.Duration("route-timeout", min: TimeSpan.FromMilliseconds(1)));
        return ring.Validated(settings) with { Planning = PlanningModuleSettings.FromConfig(config) };
    }
}
