using System.Collections.Immutable;

namespace Totoro.Actors.Sim;

/// <summary>
/// A point of the simulation, in kilometres: on the flat square map (Z = 0), or on the Earth's surface as a point of
/// a sphere of radius <see cref="EarthGeometry.RadiusKm"/> centred at the origin.
/// </summary>
internal readonly record struct MapPoint(double X, double Y, double Z = 0)
{
    /// <summary>Straight-line (chord) distance; on the flat map this is the map distance.</summary>
    public double DistanceTo(MapPoint other)
    {
        var dx = X - other.X;
        var dy = Y - other.Y;
        var dz = Z - other.Z;
        return Math.Sqrt((dx * dx) + (dy * dy) + (dz * dz));
    }
}

/// <summary>Where the zones are: a flat square map, or named sites on the Earth.</summary>
internal enum MapGeometry
{
    /// <summary>Zone centres uniform on a <see cref="NetworkSettings.MapSizeKm"/> square; straight-line distances.</summary>
    Plane,

    /// <summary>Zone centres at <see cref="NetworkSettings.ZoneSites"/>; great-circle distances.</summary>
    Earth,
}

/// <summary>A named zone centre on the Earth (degrees; north and east positive).</summary>
internal sealed record ZoneSite(string Name, double LatitudeDegrees, double LongitudeDegrees);

/// <summary>Points on a spherical Earth: placement from latitude/longitude, tangent-plane offsets, great-circle distance.</summary>
internal static class EarthGeometry
{
    /// <summary>Mean Earth radius.</summary>
    public const double RadiusKm = 6371.0;

    public static MapPoint At(double latitudeDegrees, double longitudeDegrees)
    {
        var lat = latitudeDegrees * Math.PI / 180;
        var lon = longitudeDegrees * Math.PI / 180;
        return new MapPoint(RadiusKm * Math.Cos(lat) * Math.Cos(lon), RadiusKm * Math.Cos(lat) * Math.Sin(lon), RadiusKm * Math.Sin(lat));
    }

    /// <summary>Great-circle distance between two points of the sphere.</summary>
    public static double Distance(MapPoint a, MapPoint b)
    {
        var half = Math.Min(1.0, a.DistanceTo(b) / (2 * RadiusKm));
        return 2 * RadiusKm * Math.Asin(half);
    }

    /// <summary>
    /// The point reached from <paramref name="centre"/> by moving <paramref name="eastKm"/> east and
    /// <paramref name="northKm"/> north in its tangent plane, projected back onto the sphere.
    /// </summary>
    public static MapPoint Offset(MapPoint centre, double eastKm, double northKm)
    {
        var (ux, uy, uz) = (centre.X / RadiusKm, centre.Y / RadiusKm, centre.Z / RadiusKm);
        var horizontal = Math.Sqrt((ux * ux) + (uy * uy));

        // East is (-y, x, 0) normalised; at a pole any horizontal direction will do.
        var (ex, ey, ez) = horizontal < 1e-12 ? (1.0, 0.0, 0.0) : (-uy / horizontal, ux / horizontal, 0.0);

        // North = up × east.
        var (nx, ny, nz) = ((uy * ez) - (uz * ey), (uz * ex) - (ux * ez), (ux * ey) - (uy * ex));
        var (x, y, z) = (centre.X + (eastKm * ex) + (northKm * nx), centre.Y + (eastKm * ey) + (northKm * ny), centre.Z + (eastKm * ez) + (northKm * nz));
        var scale = RadiusKm / Math.Sqrt((x * x) + (y * y) + (z * z));
        return new MapPoint(x * scale, y * scale, z * scale);
    }
}

/// <summary>One simulated device: where it is, which zone it belongs to, its access links and compute speed.</summary>
internal readonly record struct SimNode(int Index, int Zone, MapPoint Position, double UplinkBitsPerSecond, double DownlinkBitsPerSecond, double FlopsPerSecond);

/// <summary>How a node's zone is decided.</summary>
internal enum ZoneAssignment
{
    /// <summary>The zone whose centre the node was scattered around.</summary>
    Geographic,

    /// <summary>The node measures RTT to one landmark per zone (at the zone centre) and picks the nearest.</summary>
    LandmarkRtt,
}

/// <summary>A generated edge topology: zone centres and nodes. Immutable.</summary>
internal sealed record NetworkTopology(ImmutableArray<MapPoint> ZoneCentres, ImmutableArray<SimNode> Nodes)
{
    /// <summary>How <see cref="Distance"/> measures: straight lines on the flat map, great circles on the Earth.</summary>
    public MapGeometry Geometry { get; init; } = MapGeometry.Plane;

    /// <summary>The distance a message travels between two points, in kilometres.</summary>
    public double Distance(MapPoint a, MapPoint b) => DistanceOn(Geometry, a, b);

    public static double DistanceOn(MapGeometry geometry, MapPoint a, MapPoint b) =>
        geometry == MapGeometry.Earth ? EarthGeometry.Distance(a, b) : a.DistanceTo(b);
}

/// <summary>
/// Seeded synthetic edge topologies: Z zone centres uniform on the map (or the first Z configured sites on the Earth),
/// nodes Gaussian around them.
/// </summary>
internal static class TopologyGenerator
{
    public static NetworkTopology Generate(int zones, int nodes, NetworkSettings settings, ZoneAssignment assignment, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(zones, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(nodes);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(random);
        settings.Validated();

        var geometry = settings.Geometry;
        if (geometry == MapGeometry.Earth && zones > settings.ZoneSites.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(zones), zones, $"{zones} zones, but totoro.sim.network.zone-sites lists only {settings.ZoneSites.Length}");
        }

        var centres = new MapPoint[zones];
        for (var zone = 0; zone < zones; zone++)
        {
            centres[zone] = geometry == MapGeometry.Earth
                ? EarthGeometry.At(settings.ZoneSites[zone].LatitudeDegrees, settings.ZoneSites[zone].LongitudeDegrees)
                : new MapPoint(random.NextDouble() * settings.MapSizeKm, random.NextDouble() * settings.MapSizeKm);
        }

        // Measurement noise has its own stream, so both assignment modes place the same nodes in the same spots.
        var measurement = new Random(random.Next());
        var result = new SimNode[nodes];
        for (var index = 0; index < nodes; index++)
        {
            var home = random.Next(zones);
            var (east, north) = (Gaussian(random) * settings.ZoneSpreadKm, Gaussian(random) * settings.ZoneSpreadKm);
            var position = geometry == MapGeometry.Earth
                ? EarthGeometry.Offset(centres[home], east, north)
                : new MapPoint(Math.Clamp(centres[home].X + east, 0, settings.MapSizeKm), Math.Clamp(centres[home].Y + north, 0, settings.MapSizeKm));
            var bandwidth = Pick(settings.BandwidthClasses, c => c.Weight, random);
            var compute = Pick(settings.ComputeClasses, c => c.Weight, random);
            var zone = assignment == ZoneAssignment.Geographic ? home : NearestLandmark(position, centres, geometry, settings, measurement);
            result[index] = new SimNode(index, zone, position, bandwidth.UplinkBitsPerSecond, bandwidth.DownlinkBitsPerSecond, compute.FlopsPerSecond);
        }

        return new NetworkTopology([.. centres], [.. result]) { Geometry = geometry };
    }

    /// <summary>Zone of the landmark with the lowest measured RTT (two one-way latencies, each with its own jitter).</summary>
    private static int NearestLandmark(MapPoint position, MapPoint[] landmarks, MapGeometry geometry, NetworkSettings settings, Random random)
    {
        var best = 0;
        var bestRtt = double.MaxValue;
        for (var zone = 0; zone < landmarks.Length; zone++)
        {
            var oneWay = settings.BaseLatency.TotalMilliseconds + (NetworkTopology.DistanceOn(geometry, position, landmarks[zone]) / settings.PropagationKmPerMs);
            var rtt = (2 * oneWay) + (random.NextDouble() * settings.MaxJitter.TotalMilliseconds) + (random.NextDouble() * settings.MaxJitter.TotalMilliseconds);
            if (rtt < bestRtt)
            {
                bestRtt = rtt;
                best = zone;
            }
        }

        return best;
    }

    private static T Pick<T>(ImmutableArray<T> classes, Func<T, double> weight, Random random)
    {
        var total = classes.Sum(weight);
        var roll = random.NextDouble() * total;
        foreach (var candidate in classes)
        {
            roll -= weight(candidate);
            if (roll < 0)
            {
                return candidate;
            }
        }

        return classes[^1];
    }

    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
