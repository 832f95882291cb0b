using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Totoro.Node.Cli;

/// <summary><c>totoro bench kernel</c>: throughput, ping-pong, actor creation and deterministic-world speed; medians of several runs.</summary>
internal static class BenchKernelCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Tiny sizes and two runs: a smoke run, not a measurement" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON summary object on stdout" };
        var runs = new Option<int>("--runs") { Description = "Repetitions per measurement (median reported)", DefaultValueFactory = _ => 5 };
        var command = new Command("kernel", "Actor kernel: tells/s, ping-pong round trips/s, 1M actor creation, deterministic msgs/s");
        command.Options.Add(quick);
        command.Options.Add(json);
        command.Options.Add(runs);
        command.SetAction(async (parse, _) =>
        {
            var sizes = parse.GetValue(quick) ? KernelBenchSizes.Quick : KernelBenchSizes.Full;
            var repetitions = parse.GetValue(quick) ? 2 : Math.Max(1, parse.GetValue(runs));
            var log = parse.GetValue(json) ? TextWriter.Null : Console.Out;
            var summary = await RunAsync(sizes, repetitions, log).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                JsonSummary.Write(Console.Out, summary);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Runs every measurement <paramref name="repetitions"/> times and returns the medians.</summary>
    internal static async Task<KernelBenchSummary> RunAsync(KernelBenchSizes sizes, int repetitions, TextWriter log)
    {
        var onePair = new List<double>();
        var manyPairs = new List<double>();
        var pingPong = new List<double>();
        var createSeconds = new List<double>();
        var retained = new List<double>();
        var allocated = new List<double>();
        var deterministic = new List<double>();
        var nodeSeconds = new List<double>();
        var nodeBytes = new List<double>();
        for (var run = 1; run <= repetitions; run++)
        {
            onePair.Add(await KernelBenchmarks.TellsPerSecond(1, sizes.TellsPerPair * sizes.ManyPairs).ConfigureAwait(false));
            manyPairs.Add(await KernelBenchmarks.TellsPerSecond(sizes.ManyPairs, sizes.TellsPerPair).ConfigureAwait(false));
            pingPong.Add(await KernelBenchmarks.PingPongRoundTripsPerSecond(sizes.ManyPairs, sizes.RoundTrips).ConfigureAwait(false));
            var creation = await KernelBenchmarks.CreateActors(sizes.Actors).ConfigureAwait(false);
            createSeconds.Add(creation.Seconds);
            retained.Add(creation.RetainedBytesPerActor);
            allocated.Add(creation.AllocatedBytesPerActor);
            deterministic.Add(KernelBenchmarks.DeterministicMessagesPerSecond(sizes.DeterministicPairs, sizes.RoundTrips));
            var nodes = KernelBenchmarks.CreateNodesOnOneWorld(sizes.Nodes);
            nodeSeconds.Add(nodes.Seconds);
            nodeBytes.Add(nodes.RetainedBytesPerActor);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {run}/{repetitions}: tells/s 1 pair {onePair[^1]:N0}, {sizes.ManyPairs} pairs {manyPairs[^1]:N0}; ping-pong rt/s {pingPong[^1]:N0}; " +
                $"create {sizes.Actors:N0} actors {creation.Seconds:F2} s, {creation.RetainedBytesPerActor:F0} B/actor retained, {creation.AllocatedBytesPerActor:F0} B/actor allocated; " +
                $"deterministic msgs/s {deterministic[^1]:N0}; {sizes.Nodes:N0} nodes on one world {nodes.Seconds:F2} s, {nodes.RetainedBytesPerActor:F0} B/node retained"));
        }
        var summary = new KernelBenchSummary(
            Benchmark: "kernel",
            DateUtc: TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
            ProcessorCount: Environment.ProcessorCount,
            Runtime: RuntimeInformation.FrameworkDescription,
            Runs: repetitions,
            Quick: sizes == KernelBenchSizes.Quick,
            ManyPairs: sizes.ManyPairs,
            Actors: sizes.Actors,
            TellsPerSecondOnePair: Median(onePair),
            TellsPerSecondManyPairs: Median(manyPairs),
            PingPongRoundTripsPerSecond: Median(pingPong),
            CreateActorsSeconds: Median(createSeconds),
            RetainedBytesPerActor: Median(retained),
            AllocatedBytesPerActor: Median(allocated),
            DeterministicMessagesPerSecond: Median(deterministic),
            Nodes: sizes.Nodes,
            CreateNodesSeconds: Median(nodeSeconds),
            RetainedBytesPerNode: Median(nodeBytes));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median of {repetitions}: tells/s 1 pair {summary.TellsPerSecondOnePair:N0}; {sizes.ManyPairs} pairs {summary.TellsPerSecondManyPairs:N0}; " +
            $"ping-pong rt/s {summary.PingPongRoundTripsPerSecond:N0}; create {sizes.Actors:N0} actors {summary.CreateActorsSeconds:F2} s, " +
            $"{summary.RetainedBytesPerActor:F0} B/actor retained; deterministic msgs/s {summary.DeterministicMessagesPerSecond:N0}; " +
            $"{sizes.Nodes:N0} nodes {summary.CreateNodesSeconds:F2} s, {summary.RetainedBytesPerNode:F0} B/node retained"));
        return summary;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

internal sealed record KernelBenchSizes(long TellsPerPair, int ManyPairs, int RoundTrips, int Actors, int DeterministicPairs, int Nodes)
{
    public static readonly KernelBenchSizes Full = new(
        TellsPerPair: 2_000_000, ManyPairs: 16, RoundTrips: 100_000, Actors: 1_000_000, DeterministicPairs: 1_000, Nodes: 100_000);

    public static readonly KernelBenchSizes Quick = new(
        TellsPerPair: 10_000, ManyPairs: 4, RoundTrips: 1_000, Actors: 10_000, DeterministicPairs: 10, Nodes: 1_000);
}

internal sealed record KernelBenchSummary(
    string Benchmark,
    string DateUtc,
    int ProcessorCount,
    string Runtime,
    int Runs,
    bool Quick,
    int ManyPairs,
    int Actors,
    double TellsPerSecondOnePair,
    double TellsPerSecondManyPairs,
    double PingPongRoundTripsPerSecond,
    double CreateActorsSeconds,
    double RetainedBytesPerActor,
    double AllocatedBytesPerActor,
    double DeterministicMessagesPerSecond,
    int Nodes,
    double CreateNodesSeconds,
    double RetainedBytesPerNode);
