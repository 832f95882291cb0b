using System.Globalization;
using System.Text;
using Spectre.Console;
using Totoro.Actors.Sim;

namespace Totoro.Node.Cli;

/// <summary>The report of <c>totoro sim fl</c>: the Table-3 analog on the console, CSV files and SVG curves.</summary>
internal static partial class SimFlCommand
{
    internal static void Print(SimFlSummary summary, TextWriter output)
    {
        var c = summary.Config;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sim fl: {c.Nodes} nodes ({c.Network} network, {c.Zones} zones), {c.Model} on {c.Dataset} ({summary.Partition}), {c.WorkersPerApp} workers/app ({c.Assignment.ToString().ToLowerInvariant()}, {c.Workload.ToString().ToLowerInvariant()} workload), {c.ClientsPerRound} per round, target {c.Target:P1}, seed {c.Seed}, model chunks {c.ModelChunkBytes} B, evaluation {c.Evaluation.ToString().ToLowerInvariant()}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"baseline server: {string.Join("/", c.ServerBandwidths)}× median bandwidth, {c.ServerCompute}× median compute; edge links 10/25 Mbit/s up/down, 20 GFLOP/s median"));
        var table = new Table().AddColumn("apps");
        var sameRounds = new Table().AddColumn("apps");
        var fanOuts = summary.Speedups.Select(s => s.FanOut).Distinct().Order().ToArray();
        var bandwidths = summary.Speedups.Select(s => s.ServerBandwidth).Distinct().Order().ToArray();
        foreach (var b in bandwidths)
        {
            foreach (var f in fanOuts)
            {
                table.AddColumn(string.Create(CultureInfo.InvariantCulture, $"vs {b:0.##}× server, f={f}"));
                sameRounds.AddColumn(string.Create(CultureInfo.InvariantCulture, $"vs {b:0.##}× server, f={f}"));
            }
        }

        foreach (var apps in summary.Speedups.Select(s => s.Apps).Distinct().Order())
        {
            var cells = new List<string> { apps.ToString(CultureInfo.InvariantCulture) };
            var same = new List<string> { apps.ToString(CultureInfo.InvariantCulture) };
            foreach (var b in bandwidths)
            {
                foreach (var f in fanOuts)
                {
                    var s = summary.Speedups.Single(x => x.Apps == apps && x.FanOut == f && x.ServerBandwidth == b);
                    cells.Add(s.Speedup is { } x ? string.Create(CultureInfo.InvariantCulture, $"{x:F1}×") : "—");
                    same.Add(s.SameRoundsSpeedup is { } y ? string.Create(CultureInfo.InvariantCulture, $"{y:F1}×") : "—");
                }
            }

            table.AddRow(cells.ToArray());
            sameRounds.AddRow(same.ToArray());
        }

        var runs = new Table().AddColumns("system", "apps", "total time-to-target", "mean time-to-target", "rounds (max)", "final acc (min)", "wall");
        foreach (var r in summary.Runs)
        {
            runs.AddRow(
                r.System, r.Apps.ToString(CultureInfo.InvariantCulture), Seconds(r.TotalTimeToTargetSeconds), Seconds(r.MeanTimeToTargetSeconds),
                r.AppResults.Max(a => a.Rounds).ToString(CultureInfo.InvariantCulture),
                r.AppResults.Min(a => a.FinalAccuracy).ToString("P1", CultureInfo.InvariantCulture),
                r.WallSeconds.ToString("F0", CultureInfo.InvariantCulture) + " s");
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 160;
        }

        console.Write(runs);
        output.WriteLine("Speedup of Totoro's total time-to-target over the shared server (baseline ÷ Totoro):");
        console.Write(table);
        output.WriteLine("Same rounds (Totoro's time to finish the rounds each app needed on the server ÷ into the server's total):");
        console.Write(sameRounds);
        foreach (var i in summary.Interference)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Per-app interference, Totoro f={i.FanOut}, {i.Apps} apps (each app's time-to-target among them ÷ alone on the same tree): median {Ratio(i.MedianRatio)}, max {Ratio(i.MaxRatio)}; total {Seconds(i.TotalSeconds)} ÷ slowest app alone {Seconds(i.SlowestAloneSeconds)} = {Ratio(i.TotalOverSlowestAlone)}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training cache: {summary.Cache.TrainHits} hits / {summary.Cache.TrainMisses} misses (local rounds), {summary.Cache.EvalHits} / {summary.Cache.EvalMisses} (evaluations); wall {summary.WallSeconds:F0} s"));
    }

    internal static void WriteFiles(string directory, SimFlSummary summary, TextWriter log)
    {
        Directory.CreateDirectory(directory);
        var runs = new StringBuilder("system,apps,fanout,server_bandwidth,total_tta_s,mean_tta_s,max_children,wall_s\n");
        var curves = new StringBuilder("system,apps,app,root,round,accuracy,virtual_s\n");
        foreach (var r in summary.Runs)
        {
            runs.Append(string.Create(CultureInfo.InvariantCulture,
                $"{Label(r)},{r.Apps},{r.FanOut},{r.ServerBandwidth},{r.TotalTimeToTargetSeconds},{r.MeanTimeToTargetSeconds},{r.MaxChildren},{r.WallSeconds:F1}\n"));
            foreach (var a in r.AppResults)
            {
                foreach (var p in a.Curve)
                {
                    curves.Append(string.Create(CultureInfo.InvariantCulture, $"{Label(r)},{r.Apps},{a.App},{a.Root},{p.Round},{p.Accuracy},{p.VirtualSeconds}\n"));
                }
            }
        }

        var speedups = new StringBuilder("apps,fanout,server_bandwidth,totoro_s,baseline_s,speedup,totoro_same_rounds_s,same_rounds_speedup\n");
        foreach (var s in summary.Speedups)
        {
            speedups.Append(string.Create(CultureInfo.InvariantCulture, $"{s.Apps},{s.FanOut},{s.ServerBandwidth},{s.TotoroSeconds},{s.BaselineSeconds},{s.Speedup},{s.TotoroSameRoundsSeconds},{s.SameRoundsSpeedup}\n"));
        }

        if (summary.Interference.Count > 0)
        {
            var solo = new StringBuilder("apps,fanout,app,among_tta_s,alone_tta_s,ratio\n");
            foreach (var i in summary.Interference)
            {
                foreach (var a in i.PerApp)
                {
                    solo.Append(string.Create(CultureInfo.InvariantCulture, $"{i.Apps},{i.FanOut},{a.App},{a.AmongSeconds},{a.AloneSeconds},{a.Ratio}\n"));
                }

                solo.Append(string.Create(CultureInfo.InvariantCulture, $"{i.Apps},{i.FanOut},median,,,{i.MedianRatio}\n"));
                solo.Append(string.Create(CultureInfo.InvariantCulture, $"{i.Apps},{i.FanOut},max,,,{i.MaxRatio}\n"));
                solo.Append(string.Create(CultureInfo.InvariantCulture, $"{i.Apps},{i.FanOut},total/slowest-alone,{i.TotalSeconds},{i.SlowestAloneSeconds},{i.TotalOverSlowestAlone}\n"));
            }

            File.WriteAllText(Path.Combine(directory, "fl-interference.csv"), solo.ToString());
        }

        File.WriteAllText(Path.Combine(directory, "fl-runs.csv"), runs.ToString());
        File.WriteAllText(Path.Combine(directory, "fl-curves.csv"), curves.ToString());
        File.WriteAllText(Path.Combine(directory, "fl-speedup.csv"), speedups.ToString());
        foreach (var group in summary.Runs.GroupBy(r => r.Apps))
        {
            var series = group.Select(r => new ChartSeries(Label(r), MeanCurve(r))).Where(s => s.Points.Count > 0).ToList();
            if (series.Count > 0)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"fl-tta-{group.Key}apps.svg");
                File.WriteAllText(Path.Combine(directory, name), SvgLineChart.Render(
                    string.Create(CultureInfo.InvariantCulture, $"Time to accuracy, {group.Key} concurrent apps (mean over apps)"),
                    "virtual time (s)", "test accuracy", series, logX: false));
            }
        }

        log.WriteLine($"wrote fl-runs.csv, fl-curves.csv, fl-speedup.csv{(summary.Interference.Count > 0 ? ", fl-interference.csv" : "")} and fl-tta-*apps.svg to {directory}");
    }

    /// <summary>The mean over apps of each app's latest test accuracy, at every moment one of them reported.</summary>
    private static List<(double X, double Y)> MeanCurve(FlRunResult run)
    {
        var latest = new double[run.AppResults.Count];
        var events = run.AppResults.SelectMany((a, i) => a.Curve.Select(p => (App: i, p.VirtualSeconds, p.Accuracy))).OrderBy(e => e.VirtualSeconds);
        var points = new List<(double X, double Y)>();
        foreach (var e in events)
        {
            latest[e.App] = e.Accuracy;
            points.Add((e.VirtualSeconds, latest.Average()));
        }

        return points;
    }

    /// <summary>The system without its app count ("totoro f=8", "baseline 10x"): CSV-safe, the same across app counts.</summary>
    private static string Label(FlRunResult run) => run.System.Split(',')[0];

    private static string Ratio(double? value) => value is { } r ? r.ToString("F3", CultureInfo.InvariantCulture) : "—";

    private static string Seconds(double? value) => value is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) + " s" : "missed";
}
