using System.Text.Json;
using Totoro.Actors.Fl;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Node.Cli;
using Totoro.Node.Hosting;
using Totoro.Node.Modules;

namespace Totoro.Tests.Node;

/// <summary>Real nodes on 127.0.0.1 running the ring and FL modules, with the synthetic blobs data set only.</summary>
internal static class FlNodeTestKit
{
    /// <summary>A fast ring, no FashionMNIST (tests use the seeded blobs every node generates alike).</summary>
    public const string Settings =
        "totoro.ring { heartbeat-interval = 200ms, leaf-set-exchange-interval = 500ms, hop-ack-timeout = 500ms }\n" +
        "totoro.fl { data.fashion-mnist = \"\", topology-refresh = 300ms, tree-fan-out = 2 }";

    public sealed record FlNode(string Name, TotoroNode Node, RingModule Ring, FlModule Fl)
    {
        public NodeId Id => NodeId.FromName(Name);
    }

    /// <summary>Starts <paramref name="names"/> (the first creates the ring), then waits until every node's FL topology holds them all.</summary>
    public static async Task<List<FlNode>> StartClusterAsync(params string[] names)
    {
        var nodes = new List<FlNode>();
        try
        {
            foreach (var name in names)
            {
                nodes.Add(await StartAsync(name, nodes.Count == 0 ? [] : [nodes[0].Node.Endpoint()]));
            }

            await Task.WhenAll(nodes.Select(n => n.Ring.Joined)).WaitAsync(NodeTestKit.Patience);
            await Task.WhenAll(nodes.Select(n => AwaitMembersAsync(n, names.Length))).WaitAsync(NodeTestKit.Patience);
            return nodes;
        }
        catch
        {
            await StopAsync(nodes);
            throw;
        }
    }

    public static async Task StopAsync(IEnumerable<FlNode> nodes)
    {
        foreach (var node in nodes)
        {
            await node.Node.DisposeAsync();
        }
    }

    /// <summary>Completes when <paramref name="node"/>'s FL topology has exactly <paramref name="count"/> members (a signal, not a poll).</summary>
    public static Task AwaitMembersAsync(FlNode node, int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Fl.TopologyChanged += snapshot =>
        {
            if (snapshot.Members.Length == count)
            {
                done.TrySetResult();
            }
        };
        if (node.Fl.Topology.Members.Length == count)
        {
            done.TrySetResult();
        }

        return done.Task;
    }

    /// <summary>The node the ring routes hash(app) to: the closest id (ties by the lower id).</summary>
    public static FlNode RootOf(IReadOnlyList<FlNode> nodes, string app)
    {
        var key = RingMemberTopology.KeyOf(app);
        return nodes.Aggregate((best, n) => n.Id.IsCloserTo(key, best.Id) ? n : best);
    }

    public static TotoroApp BlobsApp(string name) => TotoroApp.Define(name)
        .Model("logreg")
        .Data(FlModuleSettings.BlobsName)
        .Partition(Partitioning.Iid())
        .ClientsPerRound(3)
        .OverSelection(1)
        .LocalEpochs(1)
        .BatchSize(16)
        .LearningRate(0.1)
        .RoundDeadline(TimeSpan.FromSeconds(30))
        .Seed(7);

    public static async Task<List<RoundReport>> DrainAsync(AppHandle handle)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var reports = new List<RoundReport>();
        await foreach (var report in handle.Reports.WithCancellation(patience.Token))
        {
            reports.Add(report);
        }

        return reports;
    }

    /// <summary>Runs <c>totoro cmd NODE words… --json</c>; returns the exit status and the one JSON document (or the error text).</summary>
    public static async Task<(int Status, JsonDocument? Json, string Error)> CmdJsonAsync(ITotoroNode node, params string[] words)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var call = new CmdCommand.CmdInvocation(node.Endpoint(), words, true, null, null, null, 10, null);
        var status = await CmdCommand.RunAsync(call, new StringReader(""), output, error,
            name => name == "TOTORO_SECRET" ? NodeTestKit.Secret : null, TimeProvider.System).WaitAsync(NodeTestKit.Patience);
        var text = output.ToString();
        return (status, text.Length > 0 ? JsonDocument.Parse(text) : null, error.ToString());
    }

    public static Dictionary<string, string> KeyValues(JsonDocument document) =>
        document.RootElement.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!, r => r.GetProperty("value").GetString()!);

    private static async Task<FlNode> StartAsync(string name, string[] seeds)
    {
        var ring = new RingModule();
        var fl = new FlModule(ring);
        var node = await NodeTestKit.StartAsync(name, Settings, seeds, ring, fl);
        return new FlNode(name, node, ring, fl);
    }
}
