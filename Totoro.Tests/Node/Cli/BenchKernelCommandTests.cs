using Totoro.Node.Cli;

namespace Totoro.Tests.Node.Cli;

public sealed class BenchKernelCommandTests
{
    [Test]
    public async Task The_kernel_bench_runs_every_measurement_with_tiny_sizes()
    {
        var sizes = new KernelBenchSizes(TellsPerPair: 500, ManyPairs: 2, RoundTrips: 50, Actors: 200, DeterministicPairs: 3, Nodes: 20);
        var summary = await KernelBenchCommandRun(sizes).ConfigureAwait(false);
        Assert.That(summary.Runs, Is.EqualTo(1));
        Assert.That(summary.Actors, Is.EqualTo(200));
        Assert.That(summary.TellsPerSecondOnePair, Is.Positive);
        Assert.That(summary.TellsPerSecondManyPairs, Is.Positive);
        Assert.That(summary.PingPongRoundTripsPerSecond, Is.Positive);
        Assert.That(summary.CreateActorsSeconds, Is.Positive);
        Assert.That(summary.AllocatedBytesPerActor, Is.Positive);
        Assert.That(summary.DeterministicMessagesPerSecond, Is.Positive);
        Assert.That(summary.Nodes, Is.EqualTo(20));
        Assert.That(summary.CreateNodesSeconds, Is.Positive);
    }

    private static Task<KernelBenchSummary> KernelBenchCommandRun(KernelBenchSizes sizes) =>
        BenchKernelCommand.RunAsync(sizes, repetitions: 1, TextWriter.Null).WaitAsync(TimeSpan.FromMinutes(2));
}
