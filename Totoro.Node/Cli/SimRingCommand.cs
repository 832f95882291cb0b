using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using Spectre.Console;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;

namespace Totoro.Node.Cli;

/// <summary>One lookup phase in the summary.</summary>
internal sealed record RingLookupSummary(
    int Lookups,
    int Delivered,
    int Misroutes,
    double MeanHops,
    int P50Hops,
    int P99Hops,
    int MaxHops,
    IReadOnlyList<int> HopHistogram,
    double MedianStretch,
    double P90Stretch,
    int LiveNodes,
    int WrongLeafSetsInSample)
{
    /// <summary>Stretch split into cross-zone and intra-zone lookups, and the floor the hop count alone forces.</summary>
    public StretchBreakdown? StretchBreakdown { get; init; }

    /// <summary>Deliveries to a node that finished joining during the lookups and was then the closest member (0 when the build completed).</summary>
    public int LateJoinerDeliveries { get; init; }
}

/// <summary>One <c>sim ring</c> run.</summary>
internal sealed record RingRunSummary(
    int Nodes,
    int Zones,
    int B,
    int Candidates,
    int Seed,
    double BuildWallSeconds,
    double TotalWallSeconds,
    double BuildVirtualSeconds,
    long Memberships,
    long MessagesTotal,
    long MessagesDropped,
    long RoutesAbandoned,
    double JoinMessagesPerJoin,
    double MessagesPerJoinIncludingMaintenance,
    double StateBytesPerNode,
    double RetainedHeapBytesPerNode,
    double StateEntriesPerNode,
    double LeafSetSizePerNode,
    double TableEntriesPerNode,
    double PeakGcHeapMiB,
    double PeakWorkingSetMiB,
    RingLookupSummary Lookups,
    double? ChurnPercent,
    int? Crashed,
    long? PeerFailuresDeclared,
    RingLookupSummary? AfterChurn)
{
    public double JoinRatePerVirtualSecond { get; init; }

    /// <summary>The simulated network of the run (<c>--network</c>).</summary>
    public NetworkDescription? Network { get; init; }

    /// <summary>The leaf-set size L of the run (<c>--leaf-set</c>).</summary>
    public int LeafSetSize { get; init; }

    /// <summary>Proximity-refresh probes per maintenance period (<c>--proximity-probes</c>; 0 = off).</summary>
    public int ProximityProbes { get; init; }

    /// <summary>The proximity refresh runs every this-many maintenance periods (<c>--proximity-every</c>).</summary>
    public int ProximityRefreshEvery { get; init; }

    /// <summary>Extra candidates per slot in the sparse rows (<c>--sparse-extra</c>).</summary>
    public int SparseExtraCandidates { get; init; }

    /// <summary>Started nodes whose join had not completed when the build ended (after <c>--build-timeout</c>); must be 0.</summary>
    public int JoinsUnfinished { get; init; }

    public double BuildTimeoutVirtualSeconds { get; init; }

    /// <summary>During the build, the node whose uplink was busy longest: seconds serializing, messages, mean queueing wait per message.</summary>
    public double BusiestUplinkBusySeconds { get; init; }

    public long BusiestUplinkMessages { get; init; }

    public double BusiestUplinkMeanWaitSeconds { get; init; }

    public double SettleVirtualSeconds { get; init; }

    /// <summary><c>--prepare-window</c>: virtual milliseconds of messages prepared ahead together (0 = off).</summary>
    public double PrepareWindowMs { get; init; }

    /// <summary>Ring messages whose step was computed ahead on the prepare pass, over the whole run.</summary>
    public long StepsPrepared { get; init; }

    /// <summary>Process CPU time (user + system) of the whole run, all threads.</summary>
    public double CpuSeconds { get; init; }

    /// <summary>Virtual time of the routing-table maintenance periods run after the build (<c>--maintenance-rounds</c>).</summary>
    public double MaintenanceVirtualSeconds { get; init; }

    /// <summary>Row requests and replies sent during those periods, per node and period.</summary>
    public double TableMaintenanceMessagesPerNodePerPeriod { get; init; }

    /// <summary>
    /// Every message sent during those periods per node: row requests and replies, the probes of new candidates, and
    /// the heartbeats and leaf-set exchanges that run anyway.
    /// </summary>
    public double AllMessagesPerNodeDuringMaintenance { get; init; }

    /// <summary>Routing-table completeness against the live membership, after the build (and settle).</summary>
    public TableAudit? TableFill { get; init; }

    /// <summary>Garbage collection during the build: pause time, collections per generation, and bytes allocated.</summary>
    public BuildGcSummary? BuildGc { get; init; }

    /// <summary>Replayed routes: hops per routing rule, hole hops, and a few long routes spelled out.</summary>
    public RouteAudit? RouteRules { get; init; }
}

/// <summary>What the build cost the garbage collector (process-wide counters, so only meaningful for one run per process).</summary>
/// <summary>What a run's network model was: the map, the per-hop base latency, the signal speed.</summary>
internal sealed record NetworkDescription(string Geometry, double MapSizeKm, IReadOnlyList<string> ZoneSites, double ZoneSpreadKm, double PropagationKmPerMs, double BaseLatencyMs, double MaxJitterMs)
{
    public static NetworkDescription Of(NetworkSettings settings, int zones) => new(
        settings.Geometry == MapGeometry.Earth ? "earth" : "plane",
        settings.MapSizeKm,
        settings.Geometry == MapGeometry.Earth ? [.. settings.ZoneSites.Take(zones).Select(site => site.Name)] : [],
        settings.ZoneSpreadKm,
        settings.PropagationKmPerMs,
        settings.BaseLatency.TotalMilliseconds,
        settings.MaxJitter.TotalMilliseconds);
}

internal sealed record BuildGcSummary(double PauseSeconds, int Gen0Collections, int Gen1Collections, int Gen2Collections, double AllocatedGiB)
{
    public static BuildGcSummary Since(BuildGcSummary start) => new(
        Math.Round(GC.GetTotalPauseDuration().TotalSeconds - start.PauseSeconds, 2),
        GC.CollectionCount(0) - start.Gen0Collections,
        GC.CollectionCount(1) - start.Gen1Collections,
        GC.CollectionCount(2) - start.Gen2Collections,
        Math.Round((GC.GetTotalAllocatedBytes() / 1073741824.0) - start.AllocatedGiB, 2));

    public static BuildGcSummary Now() => new(
        GC.GetTotalPauseDuration().TotalSeconds, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalAllocatedBytes() / 1073741824.0);
}

/// <summary>The JSON summary of <c>totoro sim ring</c>: one object, one entry per N.</summary>
internal sealed record RingSimSummary(string Simulation, string DateUtc, int ProcessorCount, IReadOnlyList<RingRunSummary> Runs)
{
    /// <summary>The garbage-collector settings the run had (<c>--gc</c>; see <see cref="SimGcLauncher"/>).</summary>
    public SimGcReport? Gc { get; init; }
}

/// <summary>
/// <c>totoro sim ring</c>: builds the overlay through the real join protocol on virtual time, then measures lookups
/// (hops, misroutes against a sorted id array, latency stretch), state per node, messages per join, wall time and
/// memory; optionally again after a mass crash and repair.
/// </summary>
internal static class SimRingCommand
{
    private const int StateSample = 1000;

    /// <summary>Routes replayed over the state snapshot for the rule audit.</summary>
    private const int AuditRoutes = 10_000;

    /// <summary>Virtual time for failure detection and repair after a mass crash: 20 heartbeat intervals of the sim settings.</summary>
    private static readonly TimeSpan RepairTime = TimeSpan.FromSeconds(600);

    public static Command Create()
    {
        var nodes = new Option<string>("--nodes") { Description = "Ring size, or a comma-separated list (e.g. 1000,10000)", DefaultValueFactory = _ => "10000" };
        var sweep = new Option<bool>("--sweep") { Description = "N = 10^3, 10^4, 10^5, 10^6; writes ring-hops.csv and ring-hops.svg to --out" };
        var zones = new Option<int>("--zones") { Description = "Locality zones (1 = one ring)", DefaultValueFactory = _ => 1 };
        var b = new Option<int>("--b") { Description = "Bits per id digit", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var churn = new Option<double>("--churn") { Description = "Percent of nodes to crash at once after the build", DefaultValueFactory = _ => 0 };
        var lookups = new Option<int>("--lookups") { DefaultValueFactory = _ => 10_000 };
        var candidates = new Option<int>("--candidates") { Description = "Routing-table candidates per slot", DefaultValueFactory = _ => 2 };
        var landmarks = new Option<bool>("--landmark-zones") { Description = "Each node picks its zone by measured RTT to one landmark per zone (default: the zone it was placed in)" };
        var joinRate = new Option<double?>("--join-rate") { Description = "Joins started per virtual second (default N/10, at most 100,000)" };
        var buildTimeout = new Option<double>("--build-timeout") { Description = "Virtual seconds the build waits after the last start for the last joins to complete (unfinished ones are reported)", DefaultValueFactory = _ => 600 };
        var settle = new Option<double>("--settle") { Description = "Virtual seconds of maintenance between the build and the lookups", DefaultValueFactory = _ => 0 };
        var growth = new Option<double>("--growth") { Description = "During the build the ring grows by at most this fraction of its started nodes per virtual second", DefaultValueFactory = _ => 1.0 };
        var tableMaintenance = new Option<double>("--table-maintenance") { Description = "Routing-table maintenance period in virtual seconds (totoro.ring.table-maintenance-interval; 0 = off)", DefaultValueFactory = _ => 20 };
        var maintenanceRounds = new Option<int>("--maintenance-rounds") { Description = "Maintenance periods run after the build, before measuring", DefaultValueFactory = _ => 1 };
        var proximityProbes = new Option<int>("--proximity-probes") { Description = "Proximity-refresh probes per maintenance period (totoro.ring.proximity-probes; 0 = off)", DefaultValueFactory = _ => RingSettings.Default.ProximityProbes };
        var proximityEvery = new Option<int>("--proximity-every") { Description = "The proximity refresh runs every this-many maintenance periods (totoro.ring.proximity-refresh-every; 1 = every period)", DefaultValueFactory = _ => RingSettings.Default.ProximityRefreshEvery };
        var sparseExtra = new Option<int>("--sparse-extra") { Description = "Extra candidates per slot in the sparse rows, whose blocks are no wider than half the leaf set (totoro.ring.sparse-extra-candidates; 0 = off)", DefaultValueFactory = _ => RingSettings.Default.SparseExtraCandidates };
        var announceRows = new Option<int>("--announce-rows") { Description = "Deepest routing-table rows a joined node announces itself to (totoro.ring.announce-rows)", DefaultValueFactory = _ => 2 };
        var prepareWindow = new Option<double?>("--prepare-window") { Description = "Virtual milliseconds of messages whose ring steps are computed ahead on the other cores (0 = off; results do not depend on it; default: half the network's base latency)" };
        var network = new Option<string?>("--network") { Description = "HOCON file with a totoro.sim.network section, read over the defaults (e.g. hocon/sim/world.conf: 12 zones at world sites)" };
        var leafSet = new Option<int>("--leaf-set") { Description = "Leaf-set size L, even and ≥ 2 (totoro.ring.leaf-set-size)", DefaultValueFactory = _ => 16 };
        var output = new Option<string?>("--out") { Description = "Directory for CSV and SVG output" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON summary object on stdout" };
        var gc = new Option<string>("--gc") { Description = "GC settings: sim (re-run in a child process with server GC on two heaps) or default (the runtime's)", DefaultValueFactory = _ => "sim" };
        var command = new Command("ring", "Build a Pastry multi-ring overlay through joins and measure lookups, state, messages, memory");
        foreach (var option in new Option[] { nodes, sweep, zones, b, seed, churn, lookups, candidates, landmarks, joinRate, growth, buildTimeout, settle, tableMaintenance, maintenanceRounds, proximityProbes, proximityEvery, sparseExtra, announceRows, leafSet, prepareWindow, network, output, json, gc })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            int[] sizes;
            List<RingSimOptions> options;
            try
            {
                var networkSettings = SimNetworkConfig.Load(parse.GetValue(network));
                sizes = parse.GetValue(sweep) ? [1_000, 10_000, 100_000, 1_000_000] : ParseSizes(parse.GetValue(nodes)!);
                options = sizes.Select(n => new RingSimOptions(n, parse.GetValue(zones), parse.GetValue(b), parse.GetValue(seed), parse.GetValue(candidates), parse.GetValue(lookups), parse.GetValue(churn))
                {
                    ZoneAssignment = parse.GetValue(landmarks) ? ZoneAssignment.LandmarkRtt : ZoneAssignment.Geographic,
                    JoinRatePerSecond = parse.GetValue(joinRate),
                    Settle = TimeSpan.FromSeconds(parse.GetValue(settle)),
                    BuildTimeout = TimeSpan.FromSeconds(parse.GetValue(buildTimeout)),
                    GrowthPerSecond = parse.GetValue(growth),
                    AnnounceRows = parse.GetValue(announceRows),
                    LeafSetSize = parse.GetValue(leafSet),
                    TableMaintenanceInterval = TimeSpan.FromSeconds(parse.GetValue(tableMaintenance)),
                    MaintenanceRounds = parse.GetValue(maintenanceRounds),
                    ProximityProbes = parse.GetValue(proximityProbes),
                    ProximityRefreshEvery = parse.GetValue(proximityEvery),
                    SparseExtraCandidates = parse.GetValue(sparseExtra),
                    Network = networkSettings,
                }).Select(run => parse.GetValue(prepareWindow) is { } window ? run with { PrepareWindow = TimeSpan.FromMilliseconds(window) } : run).ToList();
                options.ForEach(run => run.Validated());
                SimGcProfile.Parse(parse.GetValue(gc));
            }
            catch (Exception error) when (error is ArgumentException or FormatException or OverflowException or SettingsException or HoconException)
            {
                return FlagErrors.Report("sim ring", error);
            }

            var asJson = parse.GetValue(json);
            var log = asJson ? Console.Error : Console.Out;
            var summary = Run(options, log, useBar: !asJson && !Console.IsOutputRedirected);
            var directory = parse.GetValue(output) ?? (sizes.Length > 1 ? "sim-out" : null);
            if (directory is not null)
            {
                WriteFiles(directory, summary, log);
            }

            return JsonSummary.Emit(summary, asJson, Print, log);
        });
        return command;
    }

    internal static RingSimSummary Run(IReadOnlyList<RingSimOptions> runs, TextWriter log, bool useBar)
    {
        GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;
        var results = new List<RingRunSummary>();
        foreach (var options in runs)
        {
            if (useBar)
            {
                AnsiConsole.Progress().Start(context =>
                {
                    var task = context.AddTask($"ring N={options.Nodes:N0}", maxValue: options.Nodes);
                    results.Add(RunOne(options, started => task.Value = started, _ => { }));
                });
            }
            else
            {
                var step = Math.Max(1, options.Nodes / 10);
                var next = step;
                results.Add(RunOne(
                    options,
                    started =>
                    {
                        if (started >= next)
                        {
                            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"N={options.Nodes}: {started:N0} nodes started"));
                            next += step;
                        }
                    },
                    phase => log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"N={options.Nodes}: {phase}"))));
            }
        }

        return new RingSimSummary("ring", TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture), Environment.ProcessorCount, results)
        {
            Gc = SimGcReport.Current(),
        };
    }

    private static RingRunSummary RunOne(RingSimOptions options, Action<int> started, Action<string> phase)
    {
        var memory = new PeakMemory();
        var total = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var gcAtStart = BuildGcSummary.Now();
        var simulation = new RingSimulation(options);
        var sampleEvery = Math.Max(1, options.Nodes / 100);
        var nextSample = sampleEvery;
        simulation.Build(count =>
        {
            started(count);
            if (count >= nextSample)
            {
                memory.Sample();
                nextSample += sampleEvery;
            }
        });
        var buildWall = total.Elapsed.TotalSeconds;
        var buildGc = BuildGcSummary.Since(gcAtStart);
        var buildVirtual = simulation.VirtualTime.TotalSeconds;
        var joinMessages = simulation.JoinMessages;
        var buildMessages = simulation.MessagesSent;
        var unfinished = simulation.UnfinishedJoins;
        var busiest = simulation.BusiestUplink();
        phase(string.Create(CultureInfo.InvariantCulture, $"built in {buildWall:F1} s wall, {buildVirtual:F0} s virtual; {simulation.Joined:N0}/{simulation.ExpectedMemberships:N0} memberships, {unfinished:N0} joins unfinished; busiest uplink {busiest.BusySeconds:F1} s busy, {busiest.Messages:N0} messages, mean wait {busiest.MeanWaitSeconds:F2} s"));
        var maintenanceMessagesBefore = simulation.TableMaintenanceMessages;
        var allMessagesBefore = simulation.MessagesSent;
        var maintenance = simulation.MaintainTables();
        var maintenanceMessages = simulation.TableMaintenanceMessages - maintenanceMessagesBefore;
        var periodMessages = simulation.MessagesSent - allMessagesBefore;
        simulation.Settle(options.Settle);
        memory.Sample();
        var retained = GC.GetTotalMemory(forceFullCollection: true);
        var state = simulation.MeasureState(StateSample);
        var lookups = Summarize(simulation.MeasureLookups(), simulation.CountWrongLeafSets(StateSample));
        var (tableFill, routeRules) = simulation.AuditRouting(AuditRoutes);
        memory.Sample();
        phase(string.Create(CultureInfo.InvariantCulture, $"lookups: mean hops {lookups.MeanHops:F2}, max {lookups.MaxHops}, misroutes {lookups.Misroutes}, delivered {lookups.Delivered}/{lookups.Lookups}"));
        int? crashed = null;
        long? failures = null;
        RingLookupSummary? afterChurn = null;
        if (options.ChurnPercent > 0)
        {
            var failuresBefore = simulation.PeerFailures;
            crashed = simulation.Crash(options.ChurnPercent);
            simulation.Settle(RepairTime);
            memory.Sample();
            failures = simulation.PeerFailures - failuresBefore;
            afterChurn = Summarize(simulation.MeasureLookups(), simulation.CountWrongLeafSets(StateSample));
            phase(string.Create(CultureInfo.InvariantCulture, $"after crashing {crashed:N0}: mean hops {afterChurn.MeanHops:F2}, misroutes {afterChurn.Misroutes}, delivered {afterChurn.Delivered}/{afterChurn.Lookups}"));
        }

        memory.Sample();
        return new RingRunSummary(
            options.Nodes,
            options.Zones,
            options.BitsPerDigit,
            options.CandidatesPerSlot,
            options.Seed,
            Math.Round(buildWall, 2),
            Math.Round(total.Elapsed.TotalSeconds, 2),
            Math.Round(buildVirtual, 1),
            simulation.Joined,
            simulation.MessagesSent,
            simulation.MessagesDropped,
            simulation.RoutesAbandoned,
            Math.Round((double)joinMessages / options.Nodes, 1),
            Math.Round((double)buildMessages / options.Nodes, 1),
            Math.Round(state.MeanBytes),
            Math.Round((double)retained / options.Nodes),
            Math.Round(state.MeanEntries, 1),
            Math.Round(state.MeanLeafSetSize, 2),
            Math.Round(state.MeanTableEntries, 1),
            Math.Round(memory.PeakGcBytes / 1048576.0),
            Math.Round(memory.PeakWorkingSetBytes / 1048576.0),
            lookups,
            options.ChurnPercent > 0 ? options.ChurnPercent : null,
            crashed,
            failures,
            afterChurn)
        {
            JoinRatePerVirtualSecond = options.JoinRate,
            Network = NetworkDescription.Of(options.Network, options.Zones),
            LeafSetSize = options.LeafSetSize,
            ProximityProbes = options.ProximityProbes,
            ProximityRefreshEvery = options.ProximityRefreshEvery,
            SparseExtraCandidates = options.SparseExtraCandidates,
            JoinsUnfinished = unfinished,
            BuildTimeoutVirtualSeconds = options.BuildTimeout.TotalSeconds,
            BusiestUplinkBusySeconds = Math.Round(busiest.BusySeconds, 2),
            BusiestUplinkMessages = busiest.Messages,
            BusiestUplinkMeanWaitSeconds = Math.Round(busiest.MeanWaitSeconds, 3),
            SettleVirtualSeconds = options.Settle.TotalSeconds,
            PrepareWindowMs = options.PrepareWindow.TotalMilliseconds,
            StepsPrepared = simulation.World.StepsPrepared,
            MaintenanceVirtualSeconds = maintenance.TotalSeconds,
            TableMaintenanceMessagesPerNodePerPeriod = options.MaintenanceRounds == 0 ? 0 : Math.Round((double)maintenanceMessages / options.Nodes / options.MaintenanceRounds, 2),
            AllMessagesPerNodeDuringMaintenance = Math.Round((double)periodMessages / options.Nodes, 2),
            CpuSeconds = Math.Round(Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpuAtStart, 1),
            BuildGc = buildGc,
            TableFill = tableFill with
            {
                IdealSlotsPerNode = Math.Round(tableFill.IdealSlotsPerNode, 2),
                FilledSlotsPerNode = Math.Round(tableFill.FilledSlotsPerNode, 2),
                FillRatio = Math.Round(tableFill.FillRatio, 4),
                HolesPerNodeByRow = [.. tableFill.HolesPerNodeByRow.Select(holes => Math.Round(holes, 3))],
            },
            RouteRules = routeRules with { MeanHops = Math.Round(routeRules.MeanHops, 3) },
        };
    }

    private static RingLookupSummary Summarize(LookupReport report, int wrongLeafSets) => new(
        report.Sent,
        report.Delivered,
        report.Misroutes,
        Math.Round(report.MeanHops, 3),
        report.P50Hops,
        report.P99Hops,
        report.MaxHops,
        report.HopHistogram,
        Math.Round(report.MedianStretch, 3),
        Math.Round(report.P90Stretch, 3),
        report.LiveNodes,
        wrongLeafSets)
    {
        LateJoinerDeliveries = report.LateJoinerDeliveries,
        StretchBreakdown = report.Stretch with
        {
            CrossZoneShare = Math.Round(report.Stretch.CrossZoneShare, 3),
            MedianCrossZone = Math.Round(report.Stretch.MedianCrossZone, 3),
            MedianIntraZone = Math.Round(report.Stretch.MedianIntraZone, 3),
            MedianHopFloor = Math.Round(report.Stretch.MedianHopFloor, 3),
            MedianCrossZoneHopFloor = Math.Round(report.Stretch.MedianCrossZoneHopFloor, 3),
            MedianDirectMs = Math.Round(report.Stretch.MedianDirectMs, 2),
            MedianPathMs = Math.Round(report.Stretch.MedianPathMs, 2),
        },
    };

    internal static int[] ParseSizes(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(size =>
            int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new FormatException($"--nodes: '{size}' is not a node count (expected e.g. 1000 or 1000,10000)"))];

    private static void WriteFiles(string directory, RingSimSummary summary, TextWriter log)
    {
        Directory.CreateDirectory(directory);
        var csv = new StringBuilder("nodes,zones,b,candidates,seed,mean_hops,p50_hops,p99_hops,max_hops,misroutes,median_stretch,p90_stretch,state_bytes,join_messages,build_wall_s,peak_working_set_mib\n");
        foreach (var run in summary.Runs)
        {
            csv.Append(string.Create(CultureInfo.InvariantCulture,
                $"{run.Nodes},{run.Zones},{run.B},{run.Candidates},{run.Seed},{run.Lookups.MeanHops},{run.Lookups.P50Hops},{run.Lookups.P99Hops},{run.Lookups.MaxHops},{run.Lookups.Misroutes},{run.Lookups.MedianStretch},{run.Lookups.P90Stretch},{run.StateBytesPerNode},{run.JoinMessagesPerJoin},{run.BuildWallSeconds},{run.PeakWorkingSetMiB}\n"));
        }

        File.WriteAllText(Path.Combine(directory, "ring-hops.csv"), csv.ToString());
        var b = summary.Runs[0].B;
        var series = new List<ChartSeries>
        {
            new("mean hops", [.. summary.Runs.Select(run => ((double)run.Nodes, run.Lookups.MeanHops))]),
            new("max hops", [.. summary.Runs.Select(run => ((double)run.Nodes, (double)run.Lookups.MaxHops))]),
            new(string.Create(CultureInfo.InvariantCulture, $"log_{1 << b} N"), [.. summary.Runs.Select(run => ((double)run.Nodes, Math.Log(run.Nodes) / Math.Log(1 << b)))]),
        };
        File.WriteAllText(Path.Combine(directory, "ring-hops.svg"), SvgLineChart.Render("Ring lookup hops vs N", "nodes (N)", "overlay hops", series, logX: true));
        log.WriteLine($"wrote {Path.Combine(directory, "ring-hops.csv")} and ring-hops.svg");
    }

    private static void Print(RingSimSummary summary, TextWriter log)
    {
        foreach (var run in summary.Runs)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"N={run.Nodes:N0} zones={run.Zones}{(run.Network is { Geometry: "earth" } ? " (earth sites)" : "")} b={run.B} candidates={run.Candidates}: hops mean {run.Lookups.MeanHops} p50 {run.Lookups.P50Hops} p99 {run.Lookups.P99Hops} max {run.Lookups.MaxHops}; " +
                $"misroutes {run.Lookups.Misroutes}; delivered {run.Lookups.Delivered}/{run.Lookups.Lookups}; stretch median {run.Lookups.MedianStretch} p90 {run.Lookups.P90Stretch}; " +
                $"state {run.StateBytesPerNode} B/node ({run.StateEntriesPerNode} entries), heap retained {run.RetainedHeapBytesPerNode} B/node; join messages/join {run.JoinMessagesPerJoin} (all messages/join {run.MessagesPerJoinIncludingMaintenance}); " +
                $"build {run.BuildWallSeconds} s wall; peak GC heap {run.PeakGcHeapMiB} MiB, working set {run.PeakWorkingSetMiB} MiB"));
            if (run.AfterChurn is { } churn)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  after crashing {run.Crashed:N0} ({run.ChurnPercent}%): hops mean {churn.MeanHops} max {churn.MaxHops}; misroutes {churn.Misroutes}; delivered {churn.Delivered}/{churn.Lookups}; wrong leaf sets {churn.WrongLeafSetsInSample}/{Math.Min(StateSample, churn.LiveNodes)}"));
            }
        }
    }

    /// <summary>Peak GC heap and process working set, sampled between simulation steps.</summary>
    private sealed class PeakMemory
    {
        private readonly Process _process = Process.GetCurrentProcess();

        public long PeakGcBytes { get; private set; }

        public long PeakWorkingSetBytes { get; private set; }

        public void Sample()
        {
            PeakGcBytes = Math.Max(PeakGcBytes, GC.GetTotalMemory(false));
            _process.Refresh();
            PeakWorkingSetBytes = Math.Max(PeakWorkingSetBytes, _process.WorkingSet64);
        }
    }
}
