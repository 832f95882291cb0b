using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Node.Cli;
using Totoro.Node.Hosting;
using Totoro.Node.Modules;
using Totoro.Node.Ops;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Node.Modules;

/// <summary>The forest in real nodes: ring and forest modules over TCP on 127.0.0.1, the tree palette through <c>totoro cmd</c>.</summary>
[NonParallelizable]
public sealed class ForestModuleTests
{
    private const string Fast = """
        totoro.ring { heartbeat-interval = 200ms, leaf-set-exchange-interval = 500ms, hop-ack-timeout = 500ms }
        totoro.forest { tick-interval = 200ms, parent-timeout = 2s, subscribe-retry = 1s }
        """;

    private static readonly TopicId Topic = TopicId.For("tcp-app");

    private sealed record ForestNodeUnderTest(string Name, TotoroNode Node, RingModule Ring, ForestModule Forest, TestProbe Member, TestProbe Reports);

    [Test]
    public async Task Members_over_tcp_form_one_tree_get_each_publish_once_and_the_palette_shows_it()
    {
        var nodes = new List<ForestNodeUnderTest>();
        try
        {
            nodes.Add(await StartAsync("forest-a", []));
            foreach (var name in new[] { "forest-b", "forest-c", "forest-d", "forest-e" })
            {
                nodes.Add(await StartAsync(name, [nodes[0].Node.Endpoint()]));
            }

            await Task.WhenAll(nodes.Select(n => n.Ring.Joined)).WaitAsync(NodeTestKit.Patience);
            await AwaitLeafSetsAsync(nodes);
            foreach (var node in nodes)
            {
                node.Forest.Node.Forest.Tell(new ObserveForest(node.Reports.Ref));
                node.Forest.Node.Forest.Tell(new JoinTopic(Topic, 0, node.Member.Ref));
            }

            var closest = nodes.MinBy(n => NodeId.FromName(n.Name).DistanceTo(Topic.Key))!;
            foreach (var node in nodes)
            {
                await Task.Run(() => node.Reports.FishForMessage<ForestNotification>(
                    n => node == closest ? n.Report is BecameRoot : n.Report is Attached, NodeTestKit.Patience));
            }

            using var topics = await CmdJsonAsync(closest.Node, "tree", "topics");
            var row = topics.RootElement.GetProperty("rows").EnumerateArray().Single();
            Assert.That(row.GetProperty("topic").GetString(), Is.EqualTo(Topic.Key.ToString()));
            Assert.That(row.GetProperty("role").GetString(), Is.EqualTo("root"));
            var member = nodes.First(n => n != closest);
            using var show = await CmdJsonAsync(member.Node, "tree", "show", "tcp-app");
            Assert.That(show.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("relation").GetString()), Has.Member("parent"));

            var blob = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
            for (var id = 1L; id <= 2; id++)
            {
                closest.Forest.Node.Forest.Tell(new PublishToTopic(Topic, id, "model-" + id, blob, null));
                foreach (var node in nodes)
                {
                    var delivery = await Task.Run(() => node.Member.FishForMessage<ForestDelivery>(_ => true, NodeTestKit.Patience));
                    Assert.That(delivery.MessageId, Is.EqualTo(id), $"{node.Name}: each publish once, in order");
                    Assert.That(delivery.Body, Is.EqualTo("model-" + id));
                    Assert.That(delivery.Blob.ToArray(), Is.EqualTo(blob), $"{node.Name}: the blob arrives intact");
                }
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.Node.DisposeAsync();
            }
        }
    }

    private static async Task<ForestNodeUnderTest> StartAsync(string name, string[] seeds)
    {
        var ring = new RingModule();
        var forest = new ForestModule(ring);
        var node = await NodeTestKit.StartAsync(name, Fast, seeds, ring, forest, new TextBodies());
        return new ForestNodeUnderTest(name, node, ring, forest, new TestProbe(node.System), new TestProbe(node.System));
    }

    private static async Task AwaitLeafSetsAsync(IReadOnlyList<ForestNodeUnderTest> nodes)
    {
        foreach (var node in nodes)
        {
            var others = nodes.Where(n => n != node).Select(n => NodeId.FromName(n.Name)).ToHashSet();
            bool Complete(IEnumerable<NodeId> leaves) => leaves.ToHashSet().SetEquals(others);
            var ring = node.Ring.Node.Ring;
            var watcher = new TestProbe(node.Node.System);
            ring.Tell(new WatchLeafSet(watcher.Ref));
            var snapshot = await ring.Ask<RingStateSnapshot>(GetRingState.Instance, NodeTestKit.Patience, node.Node.System);
            if (!Complete(snapshot.State.ZoneRing.Leaves.Members().Select(p => p.Id)))
            {
                await Task.Run(() => watcher.FishForMessage<RingLeafSetChanged>(changed => Complete(changed.Leaves.Select(l => l.Id)), NodeTestKit.Patience));
            }
        }
    }

    private static async Task<JsonDocument> CmdJsonAsync(ITotoroNode node, params string[] words)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var call = new CmdCommand.CmdInvocation(node.Endpoint(), words, true, null, null, null, 10, null);
        var status = await CmdCommand.RunAsync(call, new StringReader(""), output, error,
            name => name == "TOTORO_SECRET" ? NodeTestKit.Secret : null, TimeProvider.System).WaitAsync(NodeTestKit.Patience);
        Assert.That(status, Is.Zero, error.ToString());
        return JsonDocument.Parse(output.ToString());
    }

    /// <summary>Registers the test's multicast body type (a string) on every node.</summary>
    private sealed class TextBodies : INodeModule
    {
        public string Name => "test-bodies";

        public void RegisterSerializers(SerializerRegistry registry) =>
            registry.Register<string, StringValue>("test.forest-text.v1", text => new StringValue { Value = text }, wire => wire.Value);

        public void RegisterPalettes(PaletteRegistry palettes)
        {
        }

        public Task StartAsync(NodeContext context, CancellationToken cancellation) => Task.CompletedTask;

        public Task LeaveAsync(CancellationToken cancellation) => Task.CompletedTask;
    }
}
