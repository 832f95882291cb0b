using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>
/// The simulation's measuring instrument: lookup paths (from the forward and deliver upcalls), join and failure
/// counts. Owned by the world's single thread like the network model; no node reads it.
/// </summary>
internal sealed class RingSimRecorder(NetworkModel network, int nodes, int lookups)
{
    private readonly bool[] _ready = new bool[nodes];

    private readonly int[] _source = new int[lookups];
    private readonly int[] _last = new int[lookups];
    private readonly int[] _delivered = new int[lookups];
    private readonly int[] _hops = new int[lookups];
    private readonly double[] _pathMs = new double[lookups];
    private readonly bool[] _crossZone = new bool[lookups];

    public long JoinedCount { get; private set; }

    public long PeerFailures { get; set; }

    public long Abandoned { get; set; }

    public bool IsReady(int node) => _ready[node];

    /// <summary>Lookups of the current phase delivered so far.</summary>
    public int DeliveredLookups { get; private set; }

    public int DeliveredTo(int lookup) => _delivered[lookup];

    public void Joined(NodeAddress node)
    {
        _ready[node.Value] = true;
        JoinedCount++;
    }

    public void ResetLookups()
    {
        Array.Fill(_delivered, -1);
        DeliveredLookups = 0;
        Array.Clear(_pathMs);
    }

    public void Begin(int lookup, int source, bool crossZone = false)
    {
        _crossZone[lookup] = crossZone;
        _source[lookup] = source;
        _last[lookup] = source;
    }

    /// <summary>
    /// The lookup reached <paramref name="node"/> from <paramref name="previous"/>. A gateway that ends one segment of a
    /// cross-zone route gets no upcall, so a previous hop other than the last recorded node is added to the path first.
    /// </summary>
    public void Hop(int lookup, int? previous, int node)
    {
        if (previous is { } from && from != _last[lookup])
        {
            AddLeg(lookup, from);
        }

        AddLeg(lookup, node);
    }

    public void Deliver(int lookup, int? previous, int node, int hops)
    {
        Hop(lookup, previous, node);
        DeliveredLookups += _delivered[lookup] < 0 ? 1 : 0;
        _delivered[lookup] = node;
        _hops[lookup] = hops;
    }

    /// <summary>
    /// Summarises the lookups. A delivery is correct when it reached <paramref name="expected"/> (the closest member when
    /// the lookups started), or when <paramref name="isCorrectLateJoiner"/> accepts it: the node finished joining during
    /// the lookups and is the closest member at the end, so no member was closer when it delivered (members only
    /// join during the lookups). Such deliveries are counted in <see cref="LookupReport.LateJoinerDeliveries"/>.
    /// </summary>
    public LookupReport Report(Func<int, NodeId> idOf, NodeId[] expected, int liveNodes, Func<int, int, bool>? isCorrectLateJoiner = null)
    {
        var lateJoiners = 0;
        var hops = new List<int>(expected.Length);
        var stretch = new List<double>(expected.Length);
        var misroutes = 0;
        var (cross, intra, floor, crossFloor, directs, paths) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var baseMs = network.BaseLatency.TotalMilliseconds;
        for (var lookup = 0; lookup < expected.Length; lookup++)
        {
            var node = _delivered[lookup];
            if (node < 0)
            {
                continue;
            }

            if (idOf(node) != expected[lookup])
            {
                var late = isCorrectLateJoiner?.Invoke(lookup, node) ?? false;
                lateJoiners += late ? 1 : 0;
                misroutes += late ? 0 : 1;
            }

            hops.Add(_hops[lookup]);
            var direct = network.PropagationDelay(_source[lookup], node).TotalMilliseconds;
            if (direct > 0)
            {
                stretch.Add(_pathMs[lookup] / direct);
                (_crossZone[lookup] ? cross : intra).Add(_pathMs[lookup] / direct);
                var hopFloor = ((_hops[lookup] * baseMs) + direct - baseMs) / direct;
                floor.Add(hopFloor);
                if (_crossZone[lookup])
                {
                    crossFloor.Add(hopFloor);
                }

                directs.Add(direct);
                paths.Add(_pathMs[lookup]);
            }
        }

        hops.Sort();
        stretch.Sort();
        var histogram = new int[hops.Count == 0 ? 1 : hops[^1] + 1];
        foreach (var count in hops)
        {
            histogram[count]++;
        }

        return new LookupReport(
            expected.Length,
            hops.Count,
            misroutes,
            hops.Count == 0 ? 0 : hops.Average(),
            Percentile(hops, 0.50),
            Percentile(hops, 0.99),
            hops.Count == 0 ? 0 : hops[^1],
            [.. histogram],
            Percentile(stretch, 0.50),
            Percentile(stretch, 0.90),
            liveNodes)
        {
            LateJoinerDeliveries = lateJoiners,
            Stretch = new StretchBreakdown(
                stretch.Count == 0 ? 0 : (double)cross.Count / stretch.Count,
                Median(cross),
                Median(intra),
                Median(floor),
                Median(crossFloor),
                Median(directs),
                Median(paths)),
        };
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return Percentile(values, 0.50);
    }

    private void AddLeg(int lookup, int node)
    {
        _pathMs[lookup] += network.PropagationDelay(_last[lookup], node).TotalMilliseconds;
        _last[lookup] = node;
    }

    private static T Percentile<T>(List<T> sorted, double quantile) =>
        sorted.Count == 0 ? default! : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(quantile * sorted.Count) - 1)];
}

/// <summary>A ring node's application in the simulation: reports lookup hops to the recorder, lets everything pass.</summary>
internal sealed class SimNodeApplication(RingSimRecorder recorder, int node) : IRouteApplication
{
    public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
    {
        if (context.Payload is SimLookup lookup)
        {
            recorder.Hop(lookup.Id, context.Sender?.Address.Value, node);
        }

        return ForwardVerdict.Continue;
    }

    public void Deliver(RouteContext context)
    {
        if (context.Payload is SimLookup lookup)
        {
            recorder.Deliver(lookup.Id, context.Sender?.Address.Value, node, context.Hops);
        }
    }
}

/// <summary>Counts ring events of all simulated nodes into the recorder.</summary>
internal sealed class RingSimObserver : ReceiveActor
{
    private readonly RingSimRecorder _recorder;

    public RingSimObserver(RingSimRecorder recorder)
    {
        _recorder = recorder;
        Receive<RingJoined>(joined => _recorder.Joined(joined.Node.Address));
        Receive<RingPeerFailed>(_ => _recorder.PeerFailures++);
        Receive<RingRouteAbandoned>(_ => _recorder.Abandoned++);
    }
}
