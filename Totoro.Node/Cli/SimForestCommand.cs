using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Totoro.Actors.Forest;
using Totoro.Actors.Sim;

namespace Totoro.Node.Cli;

/// <summary>One topic's tree and its publish/fold rounds in the <c>sim forest</c> summary.</summary>
internal sealed record ForestTopicSummary(
    string Topic,
    int HomeZone,
    int Roots,
    int Members,
    int AttachedMembers,
    int TreeNodes,
    int MaxDepth,
    double MeanMemberDepth,
    int RootFanIn,
    int MaxFanOut,
    int Forwarders,
    int InteriorMembers,
    int ZoneHeads,
    long MessagesPerPublish,
    long MessagesPerFold,
    int DeliveredExactlyOnce,
    int Duplicates,
    int Missing,
    bool OnePartialPerChild,
    long FoldCount,
    double FoldError,
    bool FoldByDeadline,
    double MulticastSeconds,
    double FoldBackSeconds,
    int MaxLinkStress,
    double MeanLinkStress,
    double RootUplinkMebibytes);

/// <summary>The JSON summary of <c>totoro sim forest</c>.</summary>
internal sealed record ForestSimSummary(
    string Simulation,
    string DateUtc,
    int Nodes,
    int Topics,
    int MembersPerTopic,
    int FanOutCap,
    int Zones,
    int ModelBytes,
    int Seed,
    int Rounds,
    double BuildWallSeconds,
    double TotalWallSeconds,
    int DepthBound,
    int MaxDepth,
    double MeanMemberDepth,
    int MaxRootFanIn,
    bool DepthWithinBound,
    bool RootFanInWithinCap,
    bool EveryMemberExactlyOnce,
    bool OnePartialPerChildPerRound,
    bool EveryFoldExact,
    double MeanMessagesPerPublish,
    double MeanMessagesPerFold,
    double MaxMulticastSeconds,
    double MaxFoldBackSeconds,
    long RootHandovers,
    long PartialsDropped,
    IReadOnlyList<ForestTopicSummary> PerTopic)
{
    /// <summary>The simulated network of the run (<c>--network</c>).</summary>
    public NetworkDescription? Network { get; init; }
}

/// <summary>
/// <c>totoro sim forest</c>: builds the ring through the real join protocol (the <c>sim ring</c> machinery), starts a
/// forest actor beside every ring actor, subscribes M random members per topic through the real subscribe protocol,
/// then publishes a model-sized blob from each root and folds model-sized partials back, on virtual time.
/// </summary>
internal static class SimForestCommand
{
    private const int Rounds = 2;

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Ring size", DefaultValueFactory = _ => 10_000 };
        var topics = new Option<int>("--topics") { Description = "Topics (FL applications), each with its own tree", DefaultValueFactory = _ => 1 };
        var members = new Option<int>("--members") { Description = "Members subscribed per topic", DefaultValueFactory = _ => 1000 };
        var cap = new Option<int>("--fanout-cap") { Description = "Most children per tree node (totoro.forest.fan-out-cap)", DefaultValueFactory = _ => 32 };
        var zones = new Option<int>("--zones") { Description = "Locality zones (1 = one ring)", DefaultValueFactory = _ => 1 };
        var modelBytes = new Option<int>("--model-bytes") { Description = "Size of the published model and of each fold partial", DefaultValueFactory = _ => 1 << 20 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var network = new Option<string?>("--network") { Description = "HOCON file with a totoro.sim.network section, read over the defaults (e.g. hocon/sim/world.conf)" };
        var output = new Option<string?>("--out") { Description = "Directory for forest-topics.csv" };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON summary object on stdout" };
        var command = new Command("forest", "Build the ring, grow publish/subscribe trees through it, multicast a model down and fold it back up");
        foreach (var option in new Option[] { nodes, topics, members, cap, zones, modelBytes, seed, network, output, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var asJson = parse.GetValue(json);
            var log = asJson ? Console.Error : Console.Out;
            ForestSimOptions options;
            try
            {
                options = new ForestSimOptions(parse.GetValue(nodes), parse.GetValue(topics), parse.GetValue(members), parse.GetValue(cap), parse.GetValue(zones), parse.GetValue(modelBytes), parse.GetValue(seed))
                {
                    Network = SimNetworkConfig.Load(parse.GetValue(network)),
                }.Validated();
            }
            catch (Exception error) when (error is ArgumentOutOfRangeException or Totoro.Kernel.Settings.SettingsException or Totoro.Kernel.Hocon.HoconException)
            {
                return FlagErrors.Report("sim forest", error);
            }

            var summary = Run(options, log);
            if (parse.GetValue(output) is { } directory)
            {
                WriteCsv(directory, summary, log);
            }

            return JsonSummary.Emit(summary, asJson, Print, log);
        });
        return command;
    }

    internal static ForestSimSummary Run(ForestSimOptions options, TextWriter log)
    {
        var total = Stopwatch.StartNew();
        var simulation = new ForestSimulation(options);
        var step = Math.Max(1, options.Nodes / 10);
        var next = step;
        simulation.Build(started =>
        {
            if (started >= next)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"N={options.Nodes}: {started:N0} nodes started"));
                next += step;
            }
        });
        var buildWall = total.Elapsed.TotalSeconds;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ring built in {buildWall:F1} s wall; subscribing {options.Members} members to each of {options.Topics} topics"));
        simulation.Subscribe();
        var states = simulation.Snapshot();
        var trees = simulation.Topics.ToDictionary(topic => topic, topic => simulation.Measure(topic, states));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trees formed at {simulation.VirtualTime.TotalSeconds:F0} s virtual; publishing {options.ModelBytes:N0} B and folding back, {Rounds} rounds"));
        var rootOf = trees.Where(pair => pair.Value.Roots.Length == 1).ToDictionary(pair => pair.Key, pair => pair.Value.Roots[0]);
        var perTopic = new List<ForestTopicSummary>();
        for (var round = 1L; round <= Rounds; round++)
        {
            var start = simulation.PublishAndFold(round, rootOf);
            perTopic.AddRange(simulation.Topics.Select(topic => Summarize(simulation, trees[topic], round, start, options)));
        }

        var bound = (int)Math.Ceiling(Math.Log(options.Nodes) / Math.Log(16)) + 1;
        return new ForestSimSummary(
            "forest",
            TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
            options.Nodes,
            options.Topics,
            options.Members,
            options.FanOutCap,
            options.Zones,
            options.ModelBytes,
            options.Seed,
            Rounds,
            Math.Round(buildWall, 1),
            Math.Round(total.Elapsed.TotalSeconds, 1),
            bound,
            perTopic.Max(t => t.MaxDepth),
            Math.Round(perTopic.Average(t => t.MeanMemberDepth), 3),
            perTopic.Max(t => t.RootFanIn),
            perTopic.All(t => t.MaxDepth <= bound),
            perTopic.All(t => t.RootFanIn <= options.FanOutCap && t.MaxFanOut <= options.FanOutCap),
            perTopic.All(t => t.Roots == 1 && t.DeliveredExactlyOnce == t.Members),
            perTopic.All(t => t.OnePartialPerChild),
            perTopic.All(t => t.FoldCount == t.Members && t.FoldError <= 1e-6 && !t.FoldByDeadline),
            Math.Round(perTopic.Average(t => (double)t.MessagesPerPublish), 1),
            Math.Round(perTopic.Average(t => (double)t.MessagesPerFold), 1),
            perTopic.Max(t => t.MulticastSeconds),
            perTopic.Max(t => t.FoldBackSeconds),
            simulation.Recorder.RootHandovers,
            simulation.Recorder.PartialsDropped,
            perTopic)
        {
            Network = NetworkDescription.Of(options.Network, options.Zones),
        };
    }

    private static ForestTopicSummary Summarize(ForestSimulation simulation, TopicTree tree, long round, TimeSpan start, ForestSimOptions options)
    {
        var topic = tree.Topic;
        var members = simulation.MembersOf[topic];
        var counts = members.Select(node => simulation.Recorder.Deliveries.GetValueOrDefault((topic, round, node))).ToList();
        var traffic = simulation.Links.TrafficOf(topic);
        var lastDelivery = simulation.Recorder.LastDelivery.GetValueOrDefault((topic, round), start);
        var fold = simulation.Recorder.Folds.TryGetValue((topic, round), out var folded) ? folded : default;
        var partial = fold.Fold?.Value as SimPartial;
        var flat = members.Select(node => ForestSimRecorder.ValueOf(simulation.Ring.Ids[node], topic)).Sum();
        var copies = traffic.MulticastCopiesBySender;
        var rootCopies = tree.Roots.IsEmpty ? 0 : copies.GetValueOrDefault(tree.Roots[0]);
        return new ForestTopicSummary(
            topic.ToString() + "#" + round.ToString(CultureInfo.InvariantCulture),
            tree.HomeZone,
            tree.Roots.Length,
            tree.Members,
            tree.AttachedMembers,
            tree.TreeNodes,
            tree.MaxDepth,
            Math.Round(tree.MeanMemberDepth, 3),
            tree.RootFanIn,
            tree.MaxFanOut,
            tree.Forwarders,
            tree.InteriorMembers,
            tree.ZoneHeads,
            traffic.Multicasts,
            traffic.Partials,
            counts.Count(count => count == 1),
            counts.Where(count => count > 1).Sum(count => count - 1),
            counts.Count(count => count == 0),
            traffic.PartialsByEdge.Values.All(count => count == 1) && traffic.Partials == tree.TreeNodes - 1,
            partial?.Count ?? 0,
            partial is null ? double.PositiveInfinity : Math.Abs(partial.Sum - flat),
            fold.Fold?.ByDeadline ?? true,
            Math.Round((lastDelivery - start).TotalSeconds, 3),
            fold.Fold is null ? double.PositiveInfinity : Math.Round((fold.At - lastDelivery).TotalSeconds, 3),
            copies.Count == 0 ? 0 : copies.Values.Max(),
            copies.Count == 0 ? 0 : Math.Round(copies.Values.Average(), 2),
            Math.Round(rootCopies * (double)(options.ModelBytes + 64) / 1048576.0, 1));
    }

    private static void WriteCsv(string directory, ForestSimSummary summary, TextWriter log)
    {
        Directory.CreateDirectory(directory);
        var csv = new StringBuilder("topic,roots,members,attached,tree_nodes,max_depth,mean_member_depth,root_fan_in,max_fan_out,forwarders,interior_members,zone_heads,messages_per_publish,messages_per_fold,exactly_once,duplicates,missing,one_partial_per_child,fold_count,fold_error,multicast_s,fold_back_s,max_link_stress,mean_link_stress,root_uplink_mib\n");
        foreach (var t in summary.PerTopic)
        {
            csv.Append(string.Create(CultureInfo.InvariantCulture,
                $"{t.Topic},{t.Roots},{t.Members},{t.AttachedMembers},{t.TreeNodes},{t.MaxDepth},{t.MeanMemberDepth},{t.RootFanIn},{t.MaxFanOut},{t.Forwarders},{t.InteriorMembers},{t.ZoneHeads},{t.MessagesPerPublish},{t.MessagesPerFold},{t.DeliveredExactlyOnce},{t.Duplicates},{t.Missing},{t.OnePartialPerChild},{t.FoldCount},{t.FoldError},{t.MulticastSeconds},{t.FoldBackSeconds},{t.MaxLinkStress},{t.MeanLinkStress},{t.RootUplinkMebibytes}\n"));
        }

        var path = Path.Combine(directory, "forest-topics.csv");
        File.WriteAllText(path, csv.ToString());
        log.WriteLine($"wrote {path}");
    }

    private static void Print(ForestSimSummary s, TextWriter log)
    {
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"N={s.Nodes:N0} topics={s.Topics} members={s.MembersPerTopic} cap={s.FanOutCap} zones={s.Zones} model={s.ModelBytes:N0} B seed={s.Seed}: " +
            $"depth max {s.MaxDepth} (bound {s.DepthBound}: {(s.DepthWithinBound ? "met" : "MISSED")}), mean member depth {s.MeanMemberDepth}; root fan-in max {s.MaxRootFanIn} ({(s.RootFanInWithinCap ? "within cap" : "OVER CAP")}); " +
            $"exactly once: {(s.EveryMemberExactlyOnce ? "yes" : "NO")}; one partial per child per round: {(s.OnePartialPerChildPerRound ? "yes" : "NO")}; folds exact: {(s.EveryFoldExact ? "yes" : "NO")}; " +
            $"messages per publish {s.MeanMessagesPerPublish}, per fold {s.MeanMessagesPerFold}; multicast ≤ {s.MaxMulticastSeconds} s, fold back ≤ {s.MaxFoldBackSeconds} s (virtual); " +
            $"build {s.BuildWallSeconds} s wall, total {s.TotalWallSeconds} s"));
        foreach (var t in s.PerTopic.Take(10))
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {t.Topic}: {t.TreeNodes} tree nodes ({t.Forwarders} forwarders, {t.InteriorMembers} interior members, {t.ZoneHeads} zone heads), depth max {t.MaxDepth} mean {t.MeanMemberDepth}, root fan-in {t.RootFanIn}, " +
                $"max fan-out {t.MaxFanOut}; multicast {t.MulticastSeconds} s, fold back {t.FoldBackSeconds} s; link stress max {t.MaxLinkStress} mean {t.MeanLinkStress}; root uplink {t.RootUplinkMebibytes} MiB"));
        }
    }
}
