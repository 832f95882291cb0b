using System.Collections.Immutable;

namespace Totoro.Actors.Sim;

/// <summary>A point on the simulation map, in kilometres.</summary>
internal readonly record struct MapPoint(double X, double Y)
{
    public double DistanceTo(MapPoint other) => Math.Sqrt(((X - other.X) * (X - other.X)) + ((Y - other.Y) * (Y - other.Y)));
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
internal sealed record NetworkTopology(ImmutableArray<MapPoint> ZoneCentres, ImmutableArray<SimNode> Nodes);

/// <summary>Seeded synthetic edge topologies: Z zone centres uniform on the map, nodes Gaussian around them.</summary>
internal static class TopologyGenerator
{
    public static NetworkTopology Generate(int zones, int nodes, NetworkSettings settings, ZoneAssignment assignment, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(zones, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(nodes);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(random);
        settings.Validated();

        var centres = new MapPoint[zones];
        for (var zone = 0; zone < zones; zone++)
        {
            centres[zone] = new MapPoint(random.NextDouble() * settings.MapSizeKm, random.NextDouble() * settings.MapSizeKm);
        }

        // Measurement noise has its own stream, so both assignment modes place the same nodes in the same spots.
        var measurement = new Random(random.Next());
        var result = new SimNode[nodes];
        for (var index = 0; index < nodes; index++)
        {
            var home = random.Next(zones);
            var position = new MapPoint(
                Math.Clamp(centres[home].X + (Gaussian(random) * settings.ZoneSpreadKm), 0, settings.MapSizeKm),
                Math.Clamp(centres[home].Y + (Gaussian(random) * settings.ZoneSpreadKm), 0, settings.MapSizeKm));
            var bandwidth = Pick(settings.BandwidthClasses, c => c.Weight, random);
            var compute = Pick(settings.ComputeClasses, c => c.Weight, random);
            var zone = assignment == ZoneAssignment.Geographic ? home : NearestLandmark(position, centres, settings, measurement);
            result[index] = new SimNode(index, zone, position, bandwidth.UplinkBitsPerSecond, bandwidth.DownlinkBitsPerSecond, compute.FlopsPerSecond);
        }

        return new NetworkTopology([.. centres], [.. result]);
    }

    /// <summary>Zone of the landmark with the lowest measured RTT (two one-way latencies, each with its own jitter).</summary>
    private static int NearestLandmark(MapPoint position, MapPoint[] landmarks, NetworkSettings settings, Random random)
    {
        var best = 0;
        var bestRtt = double.MaxValue;
        for (var zone = 0; zone < landmarks.Length; zone++)
        {
            var oneWay = settings.BaseLatency.TotalMilliseconds + (position.DistanceTo(landmarks[zone]) / settings.PropagationKmPerMs);
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
