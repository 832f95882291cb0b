using Totoro.Actors.Sim;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>The baseline's central server, provisioned as DESIGN §10 asks: a multiple of the median edge node.</summary>
internal static class BaselineServer
{
    /// <summary>
    /// A copy of <paramref name="topology"/> in which node <paramref name="server"/> gets
    /// <paramref name="bandwidthFactor"/> × the median edge up/down bandwidth and <paramref name="computeFactor"/> × the
    /// median edge FLOP/s (defaults 10× and 4×).
    /// </summary>
    public static NetworkTopology Provision(NetworkTopology topology, int server, double bandwidthFactor = 10, double computeFactor = 4)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bandwidthFactor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(computeFactor);
        var edge = topology.Nodes.Where(n => n.Index != server).ToArray();
        var node = topology.Nodes[server] with
        {
            UplinkBitsPerSecond = bandwidthFactor * Median(edge.Select(n => n.UplinkBitsPerSecond)),
            DownlinkBitsPerSecond = bandwidthFactor * Median(edge.Select(n => n.DownlinkBitsPerSecond)),
            FlopsPerSecond = computeFactor * Median(edge.Select(n => n.FlopsPerSecond)),
        };
        return topology with { Nodes = topology.Nodes.SetItem(server, node) };
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? throw new ArgumentException("no edge nodes") : sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
