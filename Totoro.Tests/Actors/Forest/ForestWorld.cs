using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// The forest tests' world: the product <see cref="ForestDriver"/> (ring and forest states on a virtual-time queue
/// through the network model), under the name the tests have always used.
/// </summary>
internal sealed class ForestWorld(int nodes, int zones, int seed, ForestSettings? forestSettings = null, IEnumerable<IFoldCombiner>? combiners = null, int gatewaysPerZone = 2)
    : ForestDriver(nodes, zones, seed, forestSettings, combiners ?? [VectorSum.Combiner], gatewaysPerZone);

/// <summary>The test combiner: element-wise sum of vectors (associative and commutative up to float64 rounding).</summary>
internal static class VectorSum
{
    public const int Length = 8;

    public static FoldCombiner<double[]> Combiner { get; } =
        new DelegateFoldCombiner<double[]>("vector-sum", new double[Length], (left, right) => [.. left.Zip(right, (a, b) => a + b)]);

    /// <summary>A node's deterministic contribution to (topic, round): distinct per node, topic and round.</summary>
    public static double[] For(NodeId node, TopicId topic, long round)
    {
        var mix = node.Value ^ (topic.Key.Value >> 1) ^ ((UInt128)(ulong)round * 0x9E3779B97F4A7C15UL);
        var random = new Random((int)(uint)(ulong)(mix ^ (mix >> 64)));
        return [.. Enumerable.Range(0, Length).Select(_ => random.NextDouble())];
    }

    /// <summary>The flat sum, contributions taken in id order.</summary>
    public static double[] Flat(IEnumerable<double[]> parts)
    {
        var sum = new double[Length];
        foreach (var part in parts)
        {
            for (var i = 0; i < Length; i++)
            {
                sum[i] += part[i];
            }
        }

        return sum;
    }
}
