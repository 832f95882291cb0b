using System.Collections.Immutable;
using Totoro.Actors.Sim;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;

namespace Totoro.Node.Cli;

/// <summary>
/// The simulated network's settings (HOCON section <c>totoro.sim.network</c>, defaults in Totoro.Node's
/// reference.conf, which equal <see cref="NetworkSettings.Default"/>). <see cref="FromConfig"/> names the key path of
/// every invalid value.
/// </summary>
internal static class SimNetworkConfig
{
    public const string Section = "totoro.sim.network";

    /// <summary>The reference defaults, or <paramref name="path"/> read over them.</summary>
    public static NetworkSettings Load(string? path)
    {
        var reference = ReferenceConfig.Load(typeof(SimNetworkConfig).Assembly);
        if (path is null)
        {
            return FromConfig(reference);
        }

        if (!File.Exists(path))
        {
            throw new SettingsException($"--network: config file '{path}' does not exist");
        }

        return FromConfig(HoconConfig.ParseFile(path, new HoconReadOptions { Fallback = reference }));
    }

    public static NetworkSettings FromConfig(HoconConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var network = new SettingsReader(config, Section);
        var mapSize = network.Double("map-size-km", min: 1);
        var spread = network.Double("zone-spread-km", min: 0);
        var propagation = network.Double("propagation-km-per-ms", min: 1e-3);
        var baseLatency = network.Duration("base-latency");
        var jitter = network.Duration("max-jitter");
        var loss = network.Double("loss-probability", min: 0, max: 1);
        var bandwidth = network.ObjectList("bandwidth-classes").Select(c => new BandwidthClass(
            c.String("name"),
            c.Double("uplink-bits-per-second", min: 1),
            c.Double("downlink-bits-per-second", min: 1),
            c.Double("weight", min: double.Epsilon))).ToImmutableArray();
        var compute = network.ObjectList("compute-classes").Select(c => new ComputeClass(
            c.String("name"),
            c.Double("flops-per-second", min: 1),
            c.Double("weight", min: double.Epsilon))).ToImmutableArray();
        var sites = network.ObjectList("zone-sites").Select(s => new ZoneSite(
            s.String("name"),
            s.Double("latitude", min: -90, max: 90),
            s.Double("longitude", min: -180, max: 180))).ToImmutableArray();
        var settings = new NetworkSettings(
            mapSize,
            spread,
            propagation,
            baseLatency,
            jitter,
            loss,
            bandwidth,
            compute)
        {
            ZoneSites = sites,
        };
        network.Require(loss < 1, "loss-probability", "must be below 1");
        network.Require(!bandwidth.IsEmpty, "bandwidth-classes", "needs at least one class");
        network.Require(!compute.IsEmpty, "compute-classes", "needs at least one class");
        network.Require(sites.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() == sites.Length, "zone-sites", "site names must be distinct");
        return network.Validated(settings);
    }
}
