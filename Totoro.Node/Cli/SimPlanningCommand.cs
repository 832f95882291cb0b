using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Totoro.Actors.Planning;
using Totoro.Actors.Sim;

namespace Totoro.Node.Cli;

/// <summary>One planner's results in the <c>sim planning</c> summary. Times are seconds of virtual time.</summary>
internal sealed record PlannerSummary(
    string Planner,
    double FinalRoundTime,
    double FinalDissemination,
    double FinalAggregation,
    double FinalMaxAppRoundTime,
    double MeanTimeToTarget,
    double MaxTimeToTarget,
    double? FinalEpsilon,
    double? FinalEpsilonRelative,
    double? FinalMeanPathCost,
    int? RoundsToEpsilonTarget,
    double? FinalShareOfPlayersAboveTarget,
    double NashRegret,
    double MeanNashRegretPerRound,
    int FinalPlayers,
    double MeanSwitchesLastTenth,
    double WallSeconds,
    double ProbeByteShare = 0,
    double MeanProbesLastTenth = 0);

/// <summary>The JSON summary of <c>totoro sim planning</c>.</summary>
internal sealed record PlanningSimSummary(
    string Simulation,
    string DateUtc,
    int Nodes,
    int Apps,
    double Heterogeneity,
    int Rounds,
    int Seed,
    int FanOutCap,
    int CandidatesPerSlot,
    double EpsilonTarget,
    string FinalWindow,
    string TimeToTarget,
    double RingBuildWallSeconds,
    IReadOnlyList<PlannerSummary> Planners,
    double SpeedupGameOverStatic,
    double SpeedupGameOverBandit,
    double SpeedupBanditOverStatic);

/// <summary>
/// <c>totoro sim planning</c>: static, bandit and game-theoretic path planning on one simulated ring, the same
/// links, apps and seed; reports round times, time to a fixed round budget, ε of the profile over time and Nash regret.
/// </summary>
internal static class SimPlanningCommand
{
    internal const double EpsilonTarget = 0.05;

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Ring size", DefaultValueFactory = _ => 1000 };
        var apps = new Option<int>("--apps") { Description = "Applications (one tree each)", DefaultValueFactory = _ => 20 };
        var heterogeneity = new Option<double>("--heterogeneity") { Description = "Link heterogeneity H in [0,1] (1: 1-100 Mbit/s, skewed slow)", DefaultValueFactory = _ => 1.0 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds per planner (also each app's round budget)", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var cap = new Option<int>("--fan-out-cap") { Description = "Most children per tree node", DefaultValueFactory = _ => 16 };
        var candidates = new Option<int>("--candidates") { Description = "Routing-table candidates per slot", DefaultValueFactory = _ => 4 };
        var every = new Option<int>("--epsilon-every") { Description = "Measure epsilon every k rounds", DefaultValueFactory = _ => 1 };
        var planners = new Option<string>("--planners") { Description = "Comma-separated: static,bandit,game", DefaultValueFactory = _ => "static,bandit,game" };
        var inertia = new Option<double>("--game-inertia") { Description = "Game planner: probability of taking a verified better response", DefaultValueFactory = _ => GameSettings.Default.Inertia };
        var threshold = new Option<double>("--game-threshold") { Description = "Game planner: relative gain delta required to switch", DefaultValueFactory = _ => GameSettings.Default.Threshold };
        var probeRate = new Option<double>("--game-probe-rate") { Description = "Game planner: initial probe probability per round", DefaultValueFactory = _ => GameSettings.Default.ProbeRate };
        var probeDecay = new Option<double>("--game-probe-decay") { Description = "Game planner: probe probability = rate / (1 + decay * t)", DefaultValueFactory = _ => GameSettings.Default.ProbeDecay };
        var minProbe = new Option<double>("--game-min-probe-rate") { Description = "Game planner: floor of the probe probability", DefaultValueFactory = _ => GameSettings.Default.MinProbeRate };
        var inertiaDecay = new Option<double>("--game-inertia-decay") { Description = "Game planner: switch probability = inertia / (1 + decay * recent switches)", DefaultValueFactory = _ => GameSettings.Default.InertiaDecay };
        var switchMemory = new Option<double>("--game-switch-memory") { Description = "Game planner: per-round discount of the switch count in the inertia", DefaultValueFactory = _ => GameSettings.Default.SwitchMemory };
        var gameExploration = new Option<double>("--game-exploration") { Description = "Game planner: UCB bonus scale for choosing probes (relative to own cost)", DefaultValueFactory = _ => GameSettings.Default.Exploration };
        var probeBytes = new Option<double>("--probe-bytes") { Description = "Bytes of one probe transfer each way (charged to the links)", DefaultValueFactory = _ => 256 * 1024 };
        var probeNoise = new Option<double>("--probe-noise") { Description = "Relative std. dev. of a probe's cost reading", DefaultValueFactory = _ => 0.0 };
        var discount = new Option<double>("--bandit-discount") { Description = "Bandit planner: UCB discount per observation", DefaultValueFactory = _ => BanditSettings.Default.Discount };
        var exploration = new Option<double>("--bandit-exploration") { Description = "Bandit planner: UCB exploration coefficient", DefaultValueFactory = _ => BanditSettings.Default.Exploration };
        var hysteresis = new Option<double>("--bandit-hysteresis") { Description = "Bandit planner: relative index margin before switching", DefaultValueFactory = _ => BanditSettings.Default.Hysteresis };
        var output = new Option<string?>("--out") { Description = "Directory for CSV and SVG output" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON summary object on stdout" };
        var command = new Command("planning", "Compare static, bandit and game-theoretic path planning on a simulated ring with heterogeneous links");
        foreach (var option in new Option[] { nodes, apps, heterogeneity, rounds, seed, cap, candidates, every, planners, inertia, threshold, probeRate, probeDecay, minProbe, gameExploration, inertiaDecay, switchMemory, probeBytes, probeNoise, discount, exploration, hysteresis, output, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            PlanningSimOptions options;
            PlannerKind[] kinds;
            try
            {
                options = new PlanningSimOptions(parse.GetValue(nodes), parse.GetValue(apps), parse.GetValue(heterogeneity), parse.GetValue(rounds), parse.GetValue(seed))
                {
                    FanOutCap = parse.GetValue(cap),
                    CandidatesPerSlot = parse.GetValue(candidates),
                    EpsilonEvery = parse.GetValue(every),
                    ProbeBytes = parse.GetValue(probeBytes),
                    ProbeNoise = parse.GetValue(probeNoise),
                    Planning = new PlanningSettings(
                        new BanditSettings(parse.GetValue(discount), parse.GetValue(exploration), parse.GetValue(hysteresis)),
                        new GameSettings(parse.GetValue(inertia), parse.GetValue(threshold), parse.GetValue(probeRate)) { ProbeDecay = parse.GetValue(probeDecay), MinProbeRate = parse.GetValue(minProbe), Exploration = parse.GetValue(gameExploration), InertiaDecay = parse.GetValue(inertiaDecay), SwitchMemory = parse.GetValue(switchMemory) }),
                }.Validated();
                kinds = parse.GetValue(planners)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(PathPlanners.Parse).Distinct().ToArray();
            }
            catch (Exception error) when (error is ArgumentException or FormatException)
            {
                return FlagErrors.Report("sim planning", error);
            }

            var asJson = parse.GetValue(json);
            var log = asJson ? Console.Error : Console.Out;
            var (summary, runs) = Run(options, kinds, log);
            if (parse.GetValue(output) is { } directory)
            {
                WriteFiles(directory, runs, log);
            }

            return JsonSummary.Emit(summary, asJson, Print, log);
        });
        return command;
    }

    internal static (PlanningSimSummary Summary, IReadOnlyList<PlannerRun> Runs) Run(PlanningSimOptions options, IReadOnlyList<PlannerKind> kinds, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        if (kinds.Count == 0)
        {
            throw new ArgumentException("--planners: name at least one of static, bandit, game", nameof(kinds));
        }

        var build = Stopwatch.StartNew();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"building a ring of {options.Nodes} nodes ..."));
        var simulation = new PlanningSimulation(options);
        var buildSeconds = build.Elapsed.TotalSeconds;
        var runs = new List<PlannerRun>();
        var summaries = new List<PlannerSummary>();
        foreach (var kind in kinds)
        {
            var wall = Stopwatch.StartNew();
            var step = Math.Max(1, options.Rounds / 5);
            var run = simulation.Run(kind, round =>
            {
                if (round % step == 0)
                {
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{PathPlanners.Key(kind)}: round {round}/{options.Rounds}"));
                }
            });
            runs.Add(run);
            summaries.Add(Summarize(run, wall.Elapsed.TotalSeconds));
        }

        double Final(PlannerKind kind) => summaries.FirstOrDefault(s => s.Planner == PathPlanners.Key(kind))?.FinalRoundTime ?? double.NaN;
        var summary = new PlanningSimSummary(
            "planning",
            TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
            options.Nodes,
            options.Apps,
            options.Heterogeneity,
            options.Rounds,
            options.Seed,
            options.FanOutCap,
            options.CandidatesPerSlot,
            EpsilonTarget,
            "final values are means over the last 10% of rounds",
            "fixed round budget: each app runs all rounds; time to target = sum of its per-round times",
            Math.Round(buildSeconds, 1),
            summaries,
            Math.Round(Final(PlannerKind.Static) / Final(PlannerKind.GameTheoretic), 3),
            Math.Round(Final(PlannerKind.Bandit) / Final(PlannerKind.GameTheoretic), 3),
            Math.Round(Final(PlannerKind.Static) / Final(PlannerKind.Bandit), 3));
        return (summary, runs);
    }

    private static PlannerSummary Summarize(PlannerRun run, double wallSeconds)
    {
        var rounds = run.Rounds;
        var tail = rounds.Skip(rounds.Length - Math.Max(1, rounds.Length / 10)).ToArray();
        var measured = tail.Where(r => r.EpsilonAdditive is not null).ToArray();
        var timeToTarget = run.AppRoundTimes.Select(times => times.Sum()).ToArray();
        int? converged = null;
        for (var index = rounds.Length - 1; index >= 0; index--)
        {
            if (rounds[index].EpsilonRelative is { } relative)
            {
                if (relative > EpsilonTarget)
                {
                    break;
                }

                converged = rounds[index].Round;
            }
        }

        var regret = rounds.Where(r => r.EpsilonAdditive is not null).Sum(r => r.EpsilonAdditive!.Value);
        var measuredCount = Math.Max(1, rounds.Count(r => r.EpsilonAdditive is not null));
        return new PlannerSummary(
            PathPlanners.Key(run.Kind),
            Math.Round(tail.Average(r => r.MeanRoundTime), 3),
            Math.Round(tail.Average(r => r.MeanDissemination), 3),
            Math.Round(tail.Average(r => r.MeanAggregation), 3),
            Math.Round(tail.Average(r => r.MaxRoundTime), 3),
            Math.Round(timeToTarget.Average(), 1),
            Math.Round(timeToTarget.Max(), 1),
            measured.Length > 0 ? Math.Round(measured.Average(r => r.EpsilonAdditive!.Value), 3) : null,
            measured.Length > 0 ? Math.Round(measured.Average(r => r.EpsilonRelative!.Value), 4) : null,
            measured.Length > 0 ? Math.Round(measured.Average(r => r.MeanPathCost!.Value), 3) : null,
            converged,
            measured.Length > 0 ? Math.Round(measured.Average(r => (double)r.PlayersAboveTarget!.Value / Math.Max(1, r.Players)), 4) : null,
            Math.Round(regret, 2),
            Math.Round(regret / measuredCount, 3),
            rounds[^1].Players,
            Math.Round(tail.Average(r => r.Switches), 1),
            Math.Round(wallSeconds, 1),
            Math.Round(rounds.Sum(r => r.ProbeBytes) / Math.Max(1, rounds.Sum(r => r.ModelBytes)), 5),
            Math.Round(tail.Average(r => r.Probes), 1));
    }

    private static void WriteFiles(string directory, IReadOnlyList<PlannerRun> runs, TextWriter log)
    {
        Directory.CreateDirectory(directory);
        var csv = new StringBuilder("planner,round,mean_round_time_s,mean_dissemination_s,mean_aggregation_s,max_app_round_time_s,epsilon_s,epsilon_relative,mean_path_cost_s,players_above_5pct,players,switches,probes,probe_bytes,model_bytes\n");
        foreach (var run in runs)
        {
            foreach (var r in run.Rounds)
            {
                csv.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{PathPlanners.Key(run.Kind)},{r.Round},{r.MeanRoundTime:F4},{r.MeanDissemination:F4},{r.MeanAggregation:F4},{r.MaxRoundTime:F4},{r.EpsilonAdditive:F4},{r.EpsilonRelative:F5},{r.MeanPathCost:F4},{r.PlayersAboveTarget},{r.Players},{r.Switches},{r.Probes},{r.ProbeBytes:F0},{r.ModelBytes:F0}\n"));
            }
        }

        File.WriteAllText(Path.Combine(directory, "planning-rounds.csv"), csv.ToString());
        var roundTime = runs.Select(run => new ChartSeries(PathPlanners.Key(run.Kind), [.. run.Rounds.Select(r => ((double)r.Round, r.MeanRoundTime))])).ToList();
        File.WriteAllText(Path.Combine(directory, "planning-round-time.svg"), SvgLineChart.Render("Mean round time (dissemination + aggregation)", "round", "seconds", roundTime, logX: false));
        var epsilon = runs.Select(run => new ChartSeries(PathPlanners.Key(run.Kind), [.. run.Rounds.Where(r => r.EpsilonRelative is not null).Select(r => ((double)r.Round, 100 * r.EpsilonRelative!.Value))])).ToList();
        File.WriteAllText(Path.Combine(directory, "planning-epsilon.svg"), SvgLineChart.Render("ε: largest unilateral gain, % of mean path cost", "round", "ε (%)", epsilon, logX: false));
        var regret = runs.Select(run =>
        {
            var total = 0.0;
            return new ChartSeries(PathPlanners.Key(run.Kind), [.. run.Rounds.Where(r => r.EpsilonAdditive is not null).Select(r => ((double)r.Round, total += r.EpsilonAdditive!.Value))]);
        }).ToList();
        File.WriteAllText(Path.Combine(directory, "planning-regret.svg"), SvgLineChart.Render("Nash regret (cumulative ε)", "round", "seconds", regret, logX: false));
        log.WriteLine($"wrote planning-rounds.csv, planning-round-time.svg, planning-epsilon.svg, planning-regret.svg to {directory}");
    }

    private static void Print(PlanningSimSummary summary, TextWriter log)
    {
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"N={summary.Nodes} apps={summary.Apps} H={summary.Heterogeneity} rounds={summary.Rounds} seed={summary.Seed} cap={summary.FanOutCap} candidates/slot={summary.CandidatesPerSlot}"));
        foreach (var p in summary.Planners)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {p.Planner,-7} round {p.FinalRoundTime:F2} s (dissemination {p.FinalDissemination:F2} + aggregation {p.FinalAggregation:F2}; slowest app {p.FinalMaxAppRoundTime:F2}); " +
                $"time to {summary.Rounds} rounds mean {p.MeanTimeToTarget:F0} s, max {p.MaxTimeToTarget:F0} s; ε {p.FinalEpsilon:F3} s = {100 * p.FinalEpsilonRelative:F2} % of mean path cost {p.FinalMeanPathCost:F2} s; " +
                $"ε ≤ {100 * EpsilonTarget:F0} % from round {(p.RoundsToEpsilonTarget is { } r ? r.ToString(CultureInfo.InvariantCulture) : "never")}, players able to gain > {100 * EpsilonTarget:F0} %: {100 * p.FinalShareOfPlayersAboveTarget:F1} %; Nash regret {p.NashRegret:F1} s ({p.MeanNashRegretPerRound:F3} s/round); switches/round {p.MeanSwitchesLastTenth}; probes/round {p.MeanProbesLastTenth}, probe bytes {100 * p.ProbeByteShare:F2} % of model bytes; {p.WallSeconds} s wall"));
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  speedup game/static {summary.SpeedupGameOverStatic}×, game/bandit {summary.SpeedupGameOverBandit}×, bandit/static {summary.SpeedupBanditOverStatic}×"));
    }
}
