using Totoro.Ml.Kernels;

namespace Totoro.Ml.Data;

/// <summary>
/// Seeded splits of a data set across clients. Every method returns one index array per client; the
/// arrays are disjoint and together cover every sample exactly once.
/// </summary>
public static class Partitioner
{
    /// <summary>Uniformly shuffled, equal-sized (±1) parts.</summary>
    public static int[][] Iid(int count, int clients, int seed)
    {
        CheckClients(count, clients);
        var order = Shuffled(count, seed);
        var parts = new int[clients][];
        for (var c = 0; c < clients; c++)
        {
            var start = (int)((long)count * c / clients);
            var end = (int)((long)count * (c + 1) / clients);
            parts[c] = order[start..end];
        }

        return parts;
    }

    /// <summary>
    /// McMahan et al.'s pathological non-IID split: sort by label, cut into clients × shardsPerClient equal
    /// shards, deal each client <paramref name="shardsPerClient"/> random shards (so most clients see ~2 classes).
    /// </summary>
    public static int[][] LabelShards(ReadOnlySpan<int> labels, int clients, int shardsPerClient, int seed)
    {
        CheckClients(labels.Length, clients * shardsPerClient);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardsPerClient, 1);
        var labelArray = labels.ToArray();
        var byLabel = Shuffled(labels.Length, seed).OrderBy(i => labelArray[i]).ToArray();
        var shards = clients * shardsPerClient;
        var shardOrder = Shuffled(shards, seed ^ 0x5A5A5A5A);
        var parts = new int[clients][];
        for (var c = 0; c < clients; c++)
        {
            var list = new List<int>();
            for (var k = 0; k < shardsPerClient; k++)
            {
                var shard = shardOrder[c * shardsPerClient + k];
                var start = (int)((long)labels.Length * shard / shards);
                var end = (int)((long)labels.Length * (shard + 1) / shards);
                list.AddRange(byLabel[start..end]);
            }

            parts[c] = [.. list];
        }

        return parts;
    }

    /// <summary>
    /// Label skew after Hsu et al.: for each class, client shares are drawn from Dirichlet(α) and that class's
    /// samples are split accordingly. Small α (0.1) gives few classes per client; large α (100) is near IID.
    /// Draws are repeated (from the same seeded stream) until every client has at least one sample.
    /// </summary>
    public static int[][] Dirichlet(ReadOnlySpan<int> labels, int classes, int clients, double alpha, int seed)
    {
        CheckClients(labels.Length, clients);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(alpha, 0.0);
        var random = new SplitMix64((ulong)seed);
        var byClass = new List<int>[classes];
        for (var k = 0; k < classes; k++)
        {
            byClass[k] = [];
        }

        var order = Shuffled(labels.Length, seed ^ 0x3C3C3C3C);
        foreach (var index in order)
        {
            byClass[labels[index]].Add(index);
        }

        const int attempts = 1000;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var lists = new List<int>[clients];
            for (var c = 0; c < clients; c++)
            {
                lists[c] = [];
            }

            foreach (var members in byClass)
            {
                var shares = SampleDirichlet(ref random, clients, alpha);
                var start = 0;
                var cumulative = 0.0;
                for (var c = 0; c < clients; c++)
                {
                    cumulative += shares[c];
                    var end = c == clients - 1 ? members.Count : Math.Min(members.Count, (int)Math.Round(cumulative * members.Count));
                    lists[c].AddRange(members.GetRange(start, Math.Max(0, end - start)));
                    start = Math.Max(start, end);
                }
            }

            if (lists.All(l => l.Count > 0))
            {
                return [.. lists.Select(l => l.ToArray())];
            }
        }

        throw new ArgumentException($"Dirichlet(α={alpha}) left a client empty in {attempts} draws; use fewer clients or a larger α", nameof(alpha));
    }

    /// <summary>
    /// Quantity skew: IID labels, but client sizes proportional to a Dirichlet(β) draw (β small → very
    /// unequal), each client getting at least one sample.
    /// </summary>
    public static int[][] QuantitySkew(int count, int clients, double beta, int seed)
    {
        CheckClients(count, clients);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(beta, 0.0);
        var random = new SplitMix64((ulong)seed);
        var shares = SampleDirichlet(ref random, clients, beta);
        var order = Shuffled(count, seed ^ 0x0F0F0F0F);
        var spare = count - clients;
        var parts = new int[clients][];
        var start = 0;
        var cumulative = 0.0;
        for (var c = 0; c < clients; c++)
        {
            cumulative += shares[c];
            var extraEnd = c == clients - 1 ? spare : (int)Math.Round(cumulative * spare);
            // Rounded cumulative shares never decrease, so every client keeps its guaranteed sample.
            var end = extraEnd + c + 1;
            parts[c] = order[start..end];
            start = end;
        }

        return parts;
    }

    private static void CheckClients(int count, int clients)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clients, 1);
        if (clients > count)
        {
            throw new ArgumentException($"cannot split {count} samples into {clients} non-empty parts", nameof(clients));
        }
    }

    private static int[] Shuffled(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var random = new SplitMix64((ulong)(uint)seed);
        random.Shuffle(order);
        return order;
    }

    private static double[] SampleDirichlet(ref SplitMix64 random, int n, double alpha)
    {
        var draws = new double[n];
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            draws[i] = SampleGamma(ref random, alpha);
            sum += draws[i];
        }

        for (var i = 0; i < n; i++)
        {
            draws[i] = sum > 0 ? draws[i] / sum : 1.0 / n;
        }

        return draws;
    }

    /// <summary>Marsaglia–Tsang; for α &lt; 1 uses Gamma(α + 1)·U^(1/α).</summary>
    private static double SampleGamma(ref SplitMix64 random, double alpha)
    {
        if (alpha < 1.0)
        {
            var u = 1.0 - random.NextDouble();
            return SampleGamma(ref random, alpha + 1.0) * Math.Pow(u, 1.0 / alpha);
        }

        var d = alpha - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = random.NextGaussian();
                v = 1.0 + c * x;
            }
            while (v <= 0);

            v = v * v * v;
            var u = 1.0 - random.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v))
            {
                return d * v;
            }
        }
    }
}
