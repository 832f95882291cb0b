using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Totoro.Ml.Data;
using Totoro.Ml.Kernels;
using Totoro.Ml.Models;
using Totoro.Ml.Tensors;
using Totoro.Ml.Training;

namespace Totoro.Node.Cli;

/// <summary>
/// <c>totoro bench ml</c>: single-thread training throughput of our models against PyTorch running the same
/// workloads in the same invocation (interleaved round by round, medians reported), plus centralized LeNet-5
/// accuracy on FashionMNIST. Rows are <see cref="BenchRow"/>s so other throughput rows can join the table.
/// </summary>
internal static class BenchMlCommand
{
    private const string TorchLibraryPath = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
    private const string DebianPython = "/usr/bin/python3";
    private const int SyntheticSamples = 4096;
    private const double AccuracyTarget = 0.88;

    private static readonly (string Model, int Batch, double Target)[] Workloads =
    [
        ("mlp", 32, 1.2), ("mlp", 64, 1.2), ("lenet5", 32, 1.2), ("lenet5", 64, 1.2), ("cnn", 32, 1.0), ("cnn", 64, 1.0),
    ];

    public static Command Create()
    {
        var rounds = new Option<int>("--rounds") { Description = "interleaved rounds (ours, then PyTorch) whose medians are reported", DefaultValueFactory = _ => 5 };
        var seconds = new Option<double>("--seconds") { Description = "timed training per workload and round", DefaultValueFactory = _ => 1.0 };
        var skipAccuracy = new Option<bool>("--skip-accuracy") { Description = "skip the 3-epoch centralized LeNet-5 FashionMNIST run" };
        var skipTorch = new Option<bool>("--skip-pytorch") { Description = "do not run the PyTorch comparison" };
        var torchAccuracy = new Option<bool>("--pytorch-accuracy") { Description = "also train LeNet-5 for 3 epochs in PyTorch (slow)" };
        var data = new Option<string>("--data") { Description = "FashionMNIST IDX directory", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TOTORO_FASHION_MNIST") ?? FashionMnist.DefaultDirectory };
        var script = new Option<string?>("--torch-script") { Description = "path of scripts/bench/torch_ml.py (found from the working directory or the executable by default)" };
        var skipFedAvg = new Option<bool>("--skip-fedavg") { Description = "skip the FedAvg row (100 updates × 1M floats, all cores)" };
        var json = new Option<bool>("--json") { Description = "print one JSON summary object" };
        var command = new Command("ml", "Training samples/s of MLP, LeNet-5 and CNN (1 thread) vs PyTorch, and LeNet-5 accuracy")
        {
            rounds, seconds, skipAccuracy, skipTorch, torchAccuracy, skipFedAvg, data, script, json,
        };
        command.SetAction(parse => Run(new Settings(
            parse.GetValue(rounds), parse.GetValue(seconds), parse.GetValue(skipAccuracy), parse.GetValue(skipTorch),
            parse.GetValue(torchAccuracy), parse.GetValue(skipFedAvg), parse.GetValue(data)!, parse.GetValue(script), parse.GetValue(json))));
        return command;
    }

    private sealed record Settings(int Rounds, double Seconds, bool SkipAccuracy, bool SkipTorch, bool TorchAccuracy, bool SkipFedAvg, string Data, string? Script, bool Json);

    /// <summary>One line of the comparison table; medians over rounds, ratio = ours / PyTorch.</summary>
    internal sealed record BenchRow(
        string Name, string Unit, double Ours, double? Pytorch, double? Ratio, double? Target,
        double OursCpu, double? PytorchCpu, IReadOnlyList<double> OursRuns, IReadOnlyList<double> PytorchRuns);

    internal sealed record AccuracyResult(string Model, int Epochs, int BatchSize, double TestAccuracy, double TrainSeconds, double? PytorchTestAccuracy, double? PytorchTrainSeconds);

    internal sealed record Summary(
        string Command, string Date, string Machine, string Kernel, int Rounds, double SecondsPerRun, string? Pytorch,
        string? PytorchUnavailable, IReadOnlyList<BenchRow> Rows, AccuracyResult? Accuracy, FedAvgRow? FedAvg, bool? AllTargetsMet);

    /// <summary>FedAvg of 100 updates × 1M floats on all cores, GB/s of float32 input; its target is absolute.</summary>
    internal sealed record FedAvgRow(int Updates, int Elements, int Threads, double MedianGbps, double SingleThreadGbps, double Target);

    private const double FedAvgTargetGbps = 35;

    private static int Run(Settings settings)
    {
        var log = settings.Json ? Console.Error : Console.Out;
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Rounds, 1);
        string? unavailable = "skipped with --skip-pytorch";
        var torch = settings.SkipTorch ? null : TorchRunner.Find(settings.Script, out unavailable);

        var ours = Workloads.Select(_ => new List<(double Wall, double Cpu)>()).ToArray();
        var theirs = Workloads.Select(_ => new List<(double Wall, double Cpu)>()).ToArray();
        string? torchVersion = null;
        var workloadList = string.Join(',', Workloads.Select(w => $"{w.Model}:{w.Batch}"));
        for (var round = 1; round <= settings.Rounds; round++)
        {
            for (var i = 0; i < Workloads.Length; i++)
            {
                ours[i].Add(MeasureOurs(Workloads[i].Model, Workloads[i].Batch, settings.Seconds));
            }

            if (torch is not null)
            {
                var result = torch.Run($"--workloads {workloadList} --seconds {settings.Seconds.ToString(CultureInfo.InvariantCulture)}", out var error);
                if (result is null)
                {
                    unavailable = error;
                    torch = null;
                }
                else
                {
                    torchVersion = result["torch_version"]?.GetValue<string>();
                    for (var i = 0; i < Workloads.Length; i++)
                    {
                        var key = $"{Workloads[i].Model}:{Workloads[i].Batch}";
                        theirs[i].Add((result["samples_per_second"]![key]!.GetValue<double>(), result["samples_per_cpu_second"]![key]!.GetValue<double>()));
                    }
                }
            }

            log.WriteLine($"round {round}/{settings.Rounds}: " + string.Join("  ", Workloads.Select((w, i) =>
                $"{w.Model}/{w.Batch} {ours[i][^1].Wall:F0}" + (theirs[i].Count == round ? $" vs {theirs[i][^1].Wall:F0}" : ""))));
        }

        var rows = new List<BenchRow>();
        for (var i = 0; i < Workloads.Length; i++)
        {
            var (model, batch, target) = Workloads[i];
            var oursWall = Median(ours[i].Select(r => r.Wall));
            var theirsWall = theirs[i].Count > 0 ? Median(theirs[i].Select(r => r.Wall)) : (double?)null;
            rows.Add(new BenchRow(
                $"{model} batch {batch} train", "samples/s", oursWall, theirsWall, oursWall / theirsWall, target,
                Median(ours[i].Select(r => r.Cpu)), theirs[i].Count > 0 ? Median(theirs[i].Select(r => r.Cpu)) : null,
                [.. ours[i].Select(r => Math.Round(r.Wall, 1))], [.. theirs[i].Select(r => Math.Round(r.Wall, 1))]));
        }

        AccuracyResult? accuracy = null;
        if (!settings.SkipAccuracy)
        {
            accuracy = MeasureAccuracy(settings, settings.TorchAccuracy ? torch : null, log);
        }

        FedAvgRow? fedAvg = null;
        if (!settings.SkipFedAvg)
        {
            log.WriteLine("fedavg: 100 updates × 1M floats …");
            var measured = BenchFedAvgCommand.Measure(100, 1_000_000, 5, TextWriter.Null, Environment.ProcessorCount);
            fedAvg = new FedAvgRow(
                measured.Updates, measured.Elements, measured.Threads, measured.Row("fedavg_batch").MedianGbps,
                measured.Row("fedavg_batch_1t").MedianGbps, FedAvgTargetGbps);
        }

        // Throughput targets are ratios, so without a PyTorch run they are unknown, not met.
        bool? met = rows.Any(r => r.Ratio is null)
            ? null
            : rows.All(r => r.Ratio >= r.Target)
                && (accuracy is null || accuracy.TestAccuracy >= AccuracyTarget)
                && (fedAvg is null || fedAvg.MedianGbps >= fedAvg.Target);
        var summary = new Summary(
            "totoro bench ml " + string.Join(' ', Environment.GetCommandLineArgs().Skip(3)),
            TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Machine(),
            KernelInfo.GemmPath, settings.Rounds, settings.Seconds, torchVersion, torch is null ? unavailable : null, rows, accuracy, fedAvg, met);
        if (settings.Json)
        {
            JsonSummary.Write(Console.Out, summary);
        }
        else
        {
            PrintTable(summary);
        }

        return 0;
    }

    /// <summary>Samples/s (wall and CPU time) of <see cref="LocalTrainer"/> with SGD lr 0.05, momentum 0.9, on synthetic data.</summary>
    private static (double Wall, double Cpu) MeasureOurs(string name, int batch, double seconds)
    {
        var model = ModelFactory.Create(name, seed: 1);
        var data = RandomImages(model.InputShape, SyntheticSamples, seed: 1).All();
        var trainer = new LocalTrainer();
        var options = new TrainingOptions
        {
            BatchSize = batch, LearningRate = 0.05f, Optimizer = OptimizerSettings.Sgd(momentum: 0.9f), Seed = 1, MaxSteps = 3,
        };
        // Warm up past tiered JIT compilation (call counting plus its 100 ms back-off), then calibrate the
        // step count from the last short run, so the timed run is one uninterrupted Train call.
        var warmUp = Stopwatch.StartNew();
        var probe = Stopwatch.StartNew();
        var calls = 0;
        while (calls < 10 || warmUp.Elapsed.TotalSeconds < 0.5)
        {
            probe.Restart();
            trainer.Train(model, data, options);
            calls++;
        }

        var steps = Math.Max(3, (int)(seconds / (probe.Elapsed.TotalSeconds / 3)));
        var cpu = Environment.CpuUsage.TotalTime;
        var wall = Stopwatch.StartNew();
        var result = trainer.Train(model, data, options with { MaxSteps = steps });
        var wallSeconds = wall.Elapsed.TotalSeconds;
        var cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        return (result.SamplesSeen / wallSeconds, result.SamplesSeen / cpuSeconds);
    }

    private static SampleStore RandomImages(TensorShape shape, int count, int seed)
    {
        var random = new Random(seed);
        var features = new float[count * shape.Size];
        for (var i = 0; i < features.Length; i++)
        {
            features[i] = (float)(random.NextDouble() * 2 - 1);
        }

        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = random.Next(10);
        }

        return new SampleStore(features, labels, shape, 10);
    }

    private static AccuracyResult MeasureAccuracy(Settings settings, TorchRunner? torch, TextWriter log)
    {
        const int epochs = 3;
        const int batch = 64;
        var (train, test) = FashionMnist.Load(settings.Data);
        var model = ModelFactory.Create("lenet5", seed: 1);
        var watch = Stopwatch.StartNew();
        var result = new LocalTrainer().Train(model, train.All(), new TrainingOptions
        {
            Epochs = epochs, BatchSize = batch, LearningRate = 0.002f, Optimizer = OptimizerSettings.Adam(), Seed = 1,
        });
        var seconds = watch.Elapsed.TotalSeconds;
        var evaluation = Evaluator.Evaluate(model, test.All());
        log.WriteLine($"lenet5 {epochs} epochs: test accuracy {evaluation.Accuracy:P2}, train loss {result.MeanLoss:F4}, {seconds:F1} s");

        double? torchAccuracy = null;
        double? torchSeconds = null;
        if (torch is not null)
        {
            var json = torch.Run($"--accuracy-epochs {epochs} --data {settings.Data}", out var error);
            torchAccuracy = json?["lenet5_accuracy"]?.GetValue<double>();
            torchSeconds = json?["lenet5_train_seconds"]?.GetValue<double>();
            if (json is null)
            {
                log.WriteLine($"PyTorch accuracy run failed: {error}");
            }
        }

        return new AccuracyResult("lenet5", epochs, batch, evaluation.Accuracy, seconds, torchAccuracy, torchSeconds);
    }

    private static void PrintTable(Summary summary)
    {
        Console.WriteLine();
        Console.WriteLine($"{summary.Date}, {summary.Machine}, GEMM kernel {summary.Kernel}, {summary.Rounds} interleaved rounds of {summary.SecondsPerRun} s");
        Console.WriteLine(summary.Pytorch is null ? $"PyTorch: not run ({summary.PytorchUnavailable})" : $"PyTorch {summary.Pytorch}, 1 thread");
        Console.WriteLine($"{"workload",-26} {"ours",12} {"pytorch",12} {"ratio",7} {"target",7}   {"ours/cpu-s",11} {"torch/cpu-s",11}");
        foreach (var r in summary.Rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Name,-26} {r.Ours,12:F0} {Format(r.Pytorch, "F0"),12} {Format(r.Ratio, "F2"),7} {Format(r.Target, "F1"),7}   {r.OursCpu,11:F0} {Format(r.PytorchCpu, "F0"),11}"));
        }

        if (summary.Accuracy is { } a)
        {
            var theirs = a.PytorchTestAccuracy is { } t
                ? string.Create(CultureInfo.InvariantCulture, $" (PyTorch {t:P2} in {a.PytorchTrainSeconds:F1} s)")
                : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{a.Model} {a.Epochs} epochs batch {a.BatchSize}: test accuracy {a.TestAccuracy:P2} in {a.TrainSeconds:F1} s{theirs}"));
        }

        if (summary.FedAvg is { } f)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"FedAvg {f.Updates} × {f.Elements:N0} floats: {f.MedianGbps:F1} GB/s of input on {f.Threads} threads ({f.SingleThreadGbps:F1} on one), target {f.Target:F0}"));
        }

        Console.WriteLine(summary.AllTargetsMet switch
        {
            true => "all targets met",
            false => "some targets missed",
            null => "targets not checked (they are ratios to PyTorch, which did not run)",
        });
    }

    /// <summary>"2 vCPU AMD EPYC …, 23 GiB, AVX-512": enough to tell benchmark machines apart.</summary>
    private static string Machine()
    {
        const string cpuInfo = "/proc/cpuinfo";
        var model = File.Exists(cpuInfo)
            ? File.ReadLines(cpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30);
        var simd = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2" : "no wide SIMD";
        return $"{Environment.ProcessorCount} vCPU {model ?? "unknown CPU"}, {memory} GiB, {simd}";
    }

    private static string Format(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Runs scripts/bench/torch_ml.py under Debian's Python with one OpenBLAS thread.</summary>
    private sealed class TorchRunner(string script)
    {
        public static TorchRunner? Find(string? explicitPath, out string? unavailable)
        {
            var candidates = explicitPath is not null
                ? [explicitPath]
                : new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }
                    .SelectMany(Ancestors).Select(d => Path.Combine(d, "scripts", "bench", "torch_ml.py"));
            var found = candidates.FirstOrDefault(File.Exists);
            if (found is null)
            {
                unavailable = "scripts/bench/torch_ml.py not found (pass --torch-script)";
                return null;
            }

            if (!File.Exists(DebianPython))
            {
                unavailable = $"{DebianPython} not found (apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread)";
                return null;
            }

            unavailable = null;
            return new TorchRunner(found);
        }

        public JsonNode? Run(string arguments, out string? error)
        {
            var start = new ProcessStartInfo(DebianPython, $"{script} {arguments}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["LD_LIBRARY_PATH"] = TorchLibraryPath;
            start.Environment["OMP_NUM_THREADS"] = "1";
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                var message = stderr.Result.Trim();
                error = message.Contains("No module named 'torch'", StringComparison.Ordinal)
                    ? "python3-torch is not installed (apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread)"
                    : $"torch_ml.py exited with {process.ExitCode}: {message[Math.Max(0, message.Length - 400)..]}";
                return null;
            }

            error = null;
            return JsonNode.Parse(stdout.Trim().Split('\n')[^1]);
        }

        private static IEnumerable<string> Ancestors(string directory)
        {
            for (var d = new DirectoryInfo(directory); d is not null; d = d.Parent)
            {
                yield return d.FullName;
            }
        }
    }
}
