using System.Collections.Immutable;

namespace Totoro.Actors.Sim;

/// <summary>A share of nodes with the same access-link speeds (bits per second).</summary>
internal sealed record BandwidthClass(string Name, double UplinkBitsPerSecond, double DownlinkBitsPerSecond, double Weight);

/// <summary>A share of nodes with the same device speed (floating-point operations per second).</summary>
internal sealed record ComputeClass(string Name, double FlopsPerSecond, double Weight);

/// <summary>
/// Parameters of the simulated edge network (HOCON section <c>totoro.sim.network</c>, read by <c>totoro sim ring</c>
/// and <c>sim forest --network FILE</c>). Distances are kilometres. One-way latency = <see cref="BaseLatency"/> +
/// distance / <see cref="PropagationKmPerMs"/> + uniform jitter in [0, <see cref="MaxJitter"/>).
/// </summary>
internal sealed record NetworkSettings(
    double MapSizeKm,
    double ZoneSpreadKm,
    double PropagationKmPerMs,
    TimeSpan BaseLatency,
    TimeSpan MaxJitter,
    double LossProbability,
    ImmutableArray<BandwidthClass> BandwidthClasses,
    ImmutableArray<ComputeClass> ComputeClasses)
{
    /// <summary>
    /// Zone centres on the Earth, in zone order. Empty (the default): zone centres are uniform on the flat
    /// <see cref="MapSizeKm"/> square. Otherwise zone z sits at site z and distances are great circles.
    /// </summary>
    public ImmutableArray<ZoneSite> ZoneSites { get; init; } = [];

    public MapGeometry Geometry => ZoneSites.IsDefaultOrEmpty ? MapGeometry.Plane : MapGeometry.Earth;

    public static NetworkSettings Default { get; } = new(
        MapSizeKm: 4000,
        ZoneSpreadKm: 150,
        PropagationKmPerMs: 200,
        BaseLatency: TimeSpan.FromMilliseconds(2),
        MaxJitter: TimeSpan.FromMilliseconds(2),
        LossProbability: 0,
        BandwidthClasses:
        [
            new BandwidthClass("constrained", 1e6, 5e6, 0.3),
            new BandwidthClass("broadband", 10e6, 25e6, 0.5),
            new BandwidthClass("fibre", 50e6, 100e6, 0.2),
        ],
        ComputeClasses:
        [
            new ComputeClass("phone", 5e9, 0.3),
            new ComputeClass("laptop", 20e9, 0.5),
            new ComputeClass("edge-server", 100e9, 0.2),
        ]);

    /// <summary>Throws naming the offending key when a value is out of range.</summary>
    public NetworkSettings Validated()
    {
        if (!(MapSizeKm > 0) || !(ZoneSpreadKm >= 0) || !(PropagationKmPerMs > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MapSizeKm), "totoro.sim.network: map-size-km and propagation-km-per-ms must be positive, zone-spread-km ≥ 0");
        }

        if (BaseLatency < TimeSpan.Zero || MaxJitter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BaseLatency), "totoro.sim.network: base-latency and max-jitter must be ≥ 0");
        }

        if (LossProbability is < 0 or >= 1 || double.IsNaN(LossProbability))
        {
            throw new ArgumentOutOfRangeException(nameof(LossProbability), LossProbability, "totoro.sim.network.loss-probability must be in [0, 1)");
        }

        if (BandwidthClasses.IsDefaultOrEmpty || BandwidthClasses.Any(c => !(c.UplinkBitsPerSecond > 0) || !(c.DownlinkBitsPerSecond > 0) || !(c.Weight > 0)))
        {
            throw new ArgumentOutOfRangeException(nameof(BandwidthClasses), "totoro.sim.network.bandwidth-classes: need ≥ 1 class, all speeds and weights positive");
        }

        if (ComputeClasses.IsDefaultOrEmpty || ComputeClasses.Any(c => !(c.FlopsPerSecond > 0) || !(c.Weight > 0)))
        {
            throw new ArgumentOutOfRangeException(nameof(ComputeClasses), "totoro.sim.network.compute-classes: need ≥ 1 class, all speeds and weights positive");
        }

        foreach (var site in ZoneSites.IsDefault ? [] : ZoneSites)
        {
            if (string.IsNullOrWhiteSpace(site.Name) || site.LatitudeDegrees is < -90 or > 90 || site.LongitudeDegrees is < -180 or > 180
                || double.IsNaN(site.LatitudeDegrees) || double.IsNaN(site.LongitudeDegrees))
            {
                throw new ArgumentOutOfRangeException(nameof(ZoneSites), site, "totoro.sim.network.zone-sites: every site needs a name, latitude in [-90, 90] and longitude in [-180, 180]");
            }
        }

        return this;
    }
}
