using System.CommandLine;
using System.Text.Json;
using Totoro.Node.Cli;

namespace Totoro.Tests.Node.Cli;

public sealed class BenchMlCommandTests
{
    [Test]
    public void The_fedavg_bench_measures_every_row_with_tiny_sizes()
    {
        var result = BenchFedAvgCommand.Measure(updateCount: 6, elements: 70_000, repetitions: 1, TextWriter.Null, threads: 2);

        Assert.That(result.Threads, Is.EqualTo(2));
        Assert.That(result.Rows.Select(r => r.Name), Does.Contain("fedavg_batch").And.Contain("fedavg_batch_1t").And.Contain("decode_int8"));
        Assert.That(result.Rows.Select(r => r.MedianGbps), Is.All.Positive);
    }

    [Test]
    public async Task The_ml_bench_prints_one_json_object_with_a_row_per_workload()
    {
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        try
        {
            var root = new RootCommand { BenchMlCommand.Create() };
            int exit = await root.Parse(["ml", "--json", "--rounds", "1", "--seconds", "0.01", "--skip-pytorch", "--skip-accuracy", "--skip-fedavg"])
                .InvokeAsync().ConfigureAwait(false);
            Assert.That(exit, Is.Zero);
        }
        finally
        {
            Console.SetOut(original);
        }

        using var json = JsonDocument.Parse(output.ToString());
        var rows = json.RootElement.GetProperty("rows");
        Assert.That(rows.GetArrayLength(), Is.EqualTo(6));
        Assert.That(rows.EnumerateArray().Select(r => r.GetProperty("ours").GetDouble()), Is.All.Positive);
        Assert.That(json.RootElement.GetProperty("pytorch_unavailable").GetString(), Does.Contain("--skip-pytorch"));
    }
}
