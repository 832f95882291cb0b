using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Serialization;

namespace Totoro.Node.Cli;

/// <summary>One measured row: median and best throughput over the repetitions, in GB/s of float32 input.</summary>
internal sealed record ThroughputRow(string Name, double MedianGbps, double BestGbps, double MedianMilliseconds);

/// <summary>Everything <c>totoro bench fedavg</c> measured, reusable by <c>totoro bench ml</c>.</summary>
internal sealed record FedAvgBenchResult(
    int Updates,
    int Elements,
    int Repetitions,
    int Threads,
    string Processor,
    int ProcessorCount,
    bool Avx512,
    double LoadAverageBefore,
    double LoadAverageAfter,
    IReadOnlyList<ThroughputRow> Rows)
{
    public ThroughputRow Row(string name) => Rows.Single(r => r.Name == name);
}

/// <summary>
/// <c>totoro bench fedavg</c>: FedAvg of N updates × M floats (batched and one-by-one), folding partials,
/// and the update codec, each timed over several repetitions after a warm-up, inputs generated beforehand.
/// </summary>
internal static class BenchFedAvgCommand
{
    public static Command Create()
    {
        var updates = new Option<int>("--updates") { Description = "updates folded per round", DefaultValueFactory = _ => 100 };
        var elements = new Option<int>("--elements") { Description = "floats per update", DefaultValueFactory = _ => 1_000_000 };
        var repetitions = new Option<int>("--reps") { Description = "timed repetitions per row (median reported)", DefaultValueFactory = _ => 9 };
        var threads = new Option<int>("--threads") { Description = "threads for the batched fold (fedavg_batch); fedavg_batch_1t always uses one", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "print one JSON summary object" };
        var command = new Command("fedavg", "FedAvg, fold and update-codec throughput (GB/s of float32 input)")
        {
            updates, elements, repetitions, threads, json,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(updates), d = parse.GetValue(elements), reps = parse.GetValue(repetitions);
            int t = parse.GetValue(threads);
            if (n < 1 || d < 1 || reps < 1 || t < 1)
            {
                Console.Error.WriteLine("bench fedavg: --updates, --elements, --reps and --threads must be ≥ 1");
                return 2;
            }

            bool asJson = parse.GetValue(json);
            var result = Measure(n, d, reps, asJson ? TextWriter.Null : Console.Out, t);
            if (asJson)
            {
                JsonSummary.Write(Console.Out, result);
            }
            else
            {
                Print(result);
            }

            return 0;
        });
        return command;
    }

    public static FedAvgBenchResult Measure(int updateCount, int elements, int repetitions, TextWriter progress, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(progress);
        double loadBefore = LoadAverage();
        var shape = new ModelShape(0xBE7C, elements);
        var rng = new Random(2026);
        progress.WriteLine($"generating {updateCount} updates × {elements:N0} floats …");
        var updates = new List<ClientUpdate>(updateCount);
        for (int i = 0; i < updateCount; i++)
        {
            var delta = new float[elements];
            for (int j = 0; j < delta.Length; j++)
            {
                delta[j] = (float)((rng.NextDouble() * 2) - 1) * 0.01f;
            }

            updates.Add(new ClientUpdate((ulong)(i + 1), shape.ArchitectureId, delta, rng.Next(1, 600)));
        }

        double inputBytes = 4.0 * elements * updateCount;
        double oneUpdateBytes = 4.0 * elements;
        // The float fold's kernels (fixed point is the default fold; its own rows follow fold_partials).
        var singleThread = AggregationLimits.Default with { MaxDegreeOfParallelism = 1, FixedPoint = null };
        var accumulator = new UpdateAccumulator(shape, singleThread);
        var parallelAccumulator = new UpdateAccumulator(shape, AggregationLimits.Default with { MaxDegreeOfParallelism = threads, FixedPoint = null });
        var rows = new List<ThroughputRow>();

        float sink = 0;
        rows.Add(Time("read_ceiling", repetitions, inputBytes, progress, () =>
        {
            foreach (var u in updates)
            {
                sink += TensorPrimitives.Sum(u.Delta.Span);
            }
        }));
        // The same read on --threads threads, each summing its own contiguous share of every update: how
        // much memory bandwidth the cores can pull together, the ceiling for fedavg_batch.
        var partialSums = new float[threads];
        rows.Add(Time("read_ceiling_parallel", repetitions, inputBytes, progress, () =>
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int start = (int)((long)elements * t / threads), end = (int)((long)elements * (t + 1) / threads);
                float total = 0;
                foreach (var u in updates)
                {
                    total += TensorPrimitives.Sum(u.Delta.Span[start..end]);
                }

                partialSums[t] = total;
            });
            sink += partialSums.Sum();
        }));
        rows.Add(Time("fedavg_batch", repetitions, inputBytes, progress, () =>
        {
            parallelAccumulator.Reset();
            parallelAccumulator.AccumulateBatch(updates);
            sink += parallelAccumulator.ToPartial().Mean.Span[0];
        }));
        rows.Add(Time("fedavg_batch_1t", repetitions, inputBytes, progress, () =>
        {
            accumulator.Reset();
            accumulator.AccumulateBatch(updates);
            sink += accumulator.ToPartial().Mean.Span[0];
        }));
        rows.Add(Time("fedavg_one_by_one", repetitions, inputBytes, progress, () =>
        {
            accumulator.Reset();
            foreach (var u in updates)
            {
                accumulator.Accumulate(u);
            }

            sink += accumulator.ToPartial().Mean.Span[0];
        }));

        // Ten children's partials folded at one interior node. The row times the fold itself; the 4 MB
        // snapshot for the parent (ToPartial) is left out because its large-object allocation makes the
        // row bimodal (a gen-2 collection lands in some repetitions), and fedavg_batch already includes one.
        int partCount = Math.Min(10, updateCount);
        List<PartialAggregate> PartsFoldedWith(AggregationLimits limits) => Enumerable.Range(0, partCount).Select(p =>
        {
            var child = new UpdateAccumulator(shape, limits);
            child.AccumulateBatch(updates.Where((_, i) => i % partCount == p).ToList());
            return child.ToPartial();
        }).ToList();
        var parts = PartsFoldedWith(singleThread);
        rows.Add(Time("fold_partials", repetitions, oneUpdateBytes * partCount, progress, () =>
        {
            accumulator.Reset();
            accumulator.MergeBatch(parts);
            sink += (float)accumulator.TotalWeight;
        }));

        // The exact fold (the default): quantize each update once and add integers; and its interior-node merge.
        var exact = new UpdateAccumulator(shape, AggregationLimits.Default);
        rows.Add(Time("fedavg_fixed_point", repetitions, inputBytes, progress, () =>
        {
            exact.Reset();
            exact.AccumulateBatch(updates);
            sink += exact.ToPartial().Mean.Span[0];
        }));
        var exactParts = PartsFoldedWith(AggregationLimits.Default);
        rows.Add(Time("fold_partials_fixed_point", repetitions, oneUpdateBytes * partCount, progress, () =>
        {
            exact.Reset();
            exact.MergeBatch(exactParts);
            sink += (float)exact.TotalWeight;
        }));

        var values = updates[0].Delta;
        var decodeBuffer = new float[elements];
        foreach (var (encoding, chunk) in new[] { (PayloadEncoding.Float32, 0), (PayloadEncoding.Float16, 0), (PayloadEncoding.Int8, 256) })
        {
            var header = new UpdateHeader(shape.ArchitectureId, 1, elements, encoding, chunk);
            var writer = new ArrayBufferWriter<byte>((int)UpdateCodec.EncodedLength(header));
            string name = encoding.ToString().ToLowerInvariant();
            rows.Add(Time($"encode_{name}", repetitions, oneUpdateBytes, progress, () =>
            {
                writer.ResetWrittenCount();
                UpdateCodec.Encode(writer, header, values.Span);
            }));
            var encoded = writer.WrittenMemory;
            rows.Add(Time($"decode_{name}", repetitions, oneUpdateBytes, progress, () =>
            {
                UpdateCodec.TryDecode(encoded.Span, CodecLimits.Default, out var decoded, out _, decodeBuffer);
                sink += decoded!.Values[0];
            }));
        }

        GC.KeepAlive(sink);
        return new FedAvgBenchResult(
            updateCount, elements, repetitions, threads, ProcessorName(), Environment.ProcessorCount,
            System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, loadBefore, LoadAverage(), rows);
    }

    private static ThroughputRow Time(string name, int repetitions, double bytes, TextWriter progress, Action run)
    {
        // Warm up for at least half a second: methods called in pieces (TensorPrimitives' conversions)
        // reach optimized code only after tiering's call counting and background compile, which one
        // call does not trigger; the measured rows are the steady state a long-running node sees.
        long warmStart = Stopwatch.GetTimestamp();
        for (int w = 0; w < 2 || Stopwatch.GetElapsedTime(warmStart).TotalSeconds < 0.5; w++)
        {
            run();
        }

        var seconds = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(seconds);
        double median = seconds.Length % 2 == 1
            ? seconds[seconds.Length / 2]
            : (seconds[(seconds.Length / 2) - 1] + seconds[seconds.Length / 2]) / 2;
        var row = new ThroughputRow(name, bytes / median / 1e9, bytes / seconds[0] / 1e9, median * 1e3);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-22} median {row.MedianGbps,6:F1} GB/s  best {row.BestGbps,6:F1} GB/s"));
        return row;
    }

    private static void Print(FedAvgBenchResult result)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"FedAvg bench: {result.Updates} updates × {result.Elements:N0} floats, {result.Repetitions} reps, {result.Processor} ({result.ProcessorCount} CPUs, AVX-512 {result.Avx512}), load average {result.LoadAverageBefore:F1} → {result.LoadAverageAfter:F1}"));
        Console.WriteLine("row                     median GB/s  best GB/s  median ms");
        foreach (var row in result.Rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Name,-22} {row.MedianGbps,12:F1} {row.BestGbps,10:F1} {row.MedianMilliseconds,10:F2}"));
        }
    }

    /// <summary>The 1-minute load average (NaN off Linux): on a shared machine it tells how much the numbers are worth.</summary>
    private static double LoadAverage()
    {
        const string loadAverage = "/proc/loadavg";
        return File.Exists(loadAverage)
            && double.TryParse(File.ReadAllText(loadAverage).Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double load)
            ? load
            : double.NaN;
    }

    private static string ProcessorName()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (File.Exists(cpuInfo))
        {
            var line = File.ReadLines(cpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }

        return "unknown";
    }
}
