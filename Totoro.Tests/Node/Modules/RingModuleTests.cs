using System.Collections.Immutable;
using System.Text.Json;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Kernel.Settings;
using Totoro.Node.Cli;
using Totoro.Node.Hosting;
using Totoro.Node.Modules;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Node.Modules;

[NonParallelizable]
public sealed class RingModuleTests
{
    private const string FastRing = "totoro.ring { heartbeat-interval = 200ms, leaf-set-exchange-interval = 500ms, hop-ack-timeout = 500ms }";

    /// <summary>No heartbeats or hop timeouts within a test (leaf-set exchanges only add nodes): only the leaver's notice can take it out of the others' leaf sets.</summary>
    private const string NoFailureDetection = "totoro.ring { heartbeat-interval = 1h, leaf-set-exchange-interval = 500ms, hop-ack-timeout = 1h }";

    private static readonly string[] Keys = ["alpha", "beta", "gamma", "delta", "epsilon", "0123456789abcdef0123456789abcdef", "ffffffffffffffffffffffffffffffff"];

    private sealed record RingNodeUnderTest(string Name, TotoroNode Node, RingModule Module)
    {
        public NodeId Id => NodeId.FromName(Name);
    }

    [Test]
    public async Task Routes_from_every_node_end_at_the_numerically_closest_node_before_and_after_a_graceful_leave()
    {
        var nodes = new List<RingNodeUnderTest>();
        try
        {
            nodes.Add(await StartAsync("ring-a", seeds: [], NoFailureDetection));
            foreach (var name in new[] { "ring-b", "ring-c", "ring-d", "ring-e" })
            {
                nodes.Add(await StartAsync(name, seeds: [nodes[0].Node.Endpoint()], NoFailureDetection));
            }

            await Task.WhenAll(nodes.Select(n => n.Module.Joined)).WaitAsync(NodeTestKit.Patience);
            await AwaitLeafSetsAsync(nodes);
            await AssertRoutesAsync(nodes);

            var leaver = nodes[2];
            nodes.Remove(leaver);
            await leaver.Node.StopAsync(CancellationToken.None).WaitAsync(NodeTestKit.Patience);
            await leaver.Node.DisposeAsync();

            await AwaitLeafSetsAsync(nodes);
            await AssertRoutesAsync(nodes);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.Node.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task Ring_palette_answers_members_leafset_and_table_as_json()
    {
        await using var seed = (await StartAsync("palette-a", seeds: [])).Node;
        var peerUnderTest = await StartAsync("palette-b", seeds: [seed.Endpoint()]);
        await using var peer = peerUnderTest.Node;
        await peerUnderTest.Module.Joined.WaitAsync(NodeTestKit.Patience);
        await AwaitLeafSetsAsync([new RingNodeUnderTest("palette-a", seed, (RingModule)seed.Modules[0]), peerUnderTest]);

        using var members = await CmdJsonAsync(peer, "ring", "members");
        Assert.That(members.RootElement.GetProperty("palette").GetString(), Is.EqualTo("ring"));
        var member = members.RootElement.GetProperty("rows").EnumerateArray().Single();
        Assert.That(member.GetProperty("id").GetString(), Is.EqualTo(NodeId.FromName("palette-a").ToString()));
        Assert.That(member.GetProperty("endpoint").GetString(), Is.EqualTo(seed.Endpoint()));
        Assert.That(member.GetProperty("in").GetString(), Does.Contain("leafset"));

        using var leafSet = await CmdJsonAsync(peer, "ring", "leafset");
        var leaves = leafSet.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.That(leaves, Is.Not.Empty);
        Assert.That(leaves.Select(r => r.GetProperty("id").GetString()), Is.All.EqualTo(NodeId.FromName("palette-a").ToString()));
        Assert.That(leaves.Select(r => r.GetProperty("side").GetString()), Is.All.AnyOf("cw", "ccw"));
        Assert.That(leaves.Select(r => r.GetProperty("position").GetString()), Is.All.EqualTo("1"));

        using var table = await CmdJsonAsync(peer, "ring", "table");
        var candidates = table.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("candidates").GetString()).ToArray();
        Assert.That(candidates, Has.Length.EqualTo(1));
        Assert.That(candidates[0], Does.Contain(seed.Endpoint()));
    }

    [Test]
    public void Invalid_ring_settings_name_their_key_paths()
    {
        var config = NodeTestKit.Config("bad-ring", "totoro.ring { leaf-set-size = 3, node-id = \"not-hex\", seed-wait = -1s, table-maintenance-interval = -1s }");
        var failure = Assert.Throws<SettingsException>(() => RingModuleSettings.FromConfig(config, "bad-ring"))!;
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.ring.leaf-set-size"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.ring.node-id"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.ring.seed-wait"));
        Assert.That(failure.Errors, Has.Some.StartsWith("totoro.ring.table-maintenance-interval"));
    }

    [Test]
    public void Default_ring_settings_take_the_id_from_the_node_name_unless_configured()
    {
        var named = RingModuleSettings.FromConfig(NodeTestKit.Config("named"), "named");
        Assert.That(named.NodeId, Is.EqualTo(NodeId.FromName("named")));
        Assert.That(named.Ring.LeafSetSize, Is.EqualTo(16));
        Assert.That(named.Ring.TableMaintenanceInterval, Is.EqualTo(TimeSpan.FromMinutes(1)));
        var configured = RingModuleSettings.FromConfig(NodeTestKit.Config("named", "totoro.ring.node-id = \"00000000000000000000000000000abc\""), "named");
        Assert.That(configured.NodeId, Is.EqualTo(NodeId.Parse("abc")));
    }

    [Test]
    public void Node_handles_carry_their_endpoint_across_processes()
    {
        var senderBook = new RingEndpoints();
        var receiverBook = new RingEndpoints();
        var sender = SerializerRegistry.CreateWithKernelMessages();
        var receiver = SerializerRegistry.CreateWithKernelMessages();
        RingSerializers.Register(sender, senderBook);
        RingSerializers.Register(receiver, receiverBook);
        var a = new NodeHandle(NodeId.FromName("a"), senderBook.Add("10.0.0.1:4053"));
        var b = new NodeHandle(NodeId.FromName("b"), senderBook.Add("10.0.0.2:4053"));
        Assert.That(receiverBook.EndpointOf(b.Address), Is.Null);

        var (manifest, bytes) = sender.Serialize(new RingEnvelope(RingId.Zone(0), new LeafSetReply(a, [b])));
        var read = (RingEnvelope)receiver.Deserialize(manifest, bytes, new NoRefs());

        Assert.That(((LeafSetReply)read.Message).LeafSet, Is.EqualTo(ImmutableArray.Create(b)));
        Assert.That(receiverBook.EndpointOf(a.Address), Is.EqualTo("10.0.0.1:4053"));
        Assert.That(receiverBook.EndpointOf(b.Address), Is.EqualTo("10.0.0.2:4053"));
        Assert.That(RingEndpoints.HandleOf("10.0.0.2:4053"), Is.EqualTo(b.Address), "every process derives the same handle");
    }

    private static async Task<RingNodeUnderTest> StartAsync(string name, string[] seeds, string ring = FastRing)
    {
        var module = new RingModule();
        var node = await NodeTestKit.StartAsync(name, ring, seeds, module);
        return new RingNodeUnderTest(name, node, module);
    }

    /// <summary>Waits (bounded, on leaf-set change signals) until every node's leaf set holds exactly the other nodes.</summary>
    private static async Task AwaitLeafSetsAsync(IReadOnlyList<RingNodeUnderTest> nodes)
    {
        foreach (var node in nodes)
        {
            var others = nodes.Where(n => n != node).Select(n => n.Id).ToHashSet();
            bool Complete(IEnumerable<NodeId> leaves) => leaves.ToHashSet().SetEquals(others);
            var ring = node.Module.Node.Ring;
            var watcher = new TestProbe(node.Node.System);
            ring.Tell(new WatchLeafSet(watcher.Ref));
            var snapshot = await ring.Ask<RingStateSnapshot>(GetRingState.Instance, NodeTestKit.Patience, node.Node.System);
            if (!Complete(snapshot.State.ZoneRing.Leaves.Members().Select(p => p.Id)))
            {
                await Task.Run(() => watcher.FishForMessage<RingLeafSetChanged>(changed => Complete(changed.Leaves.Select(l => l.Id)), NodeTestKit.Patience));
            }
        }
    }

    private static async Task AssertRoutesAsync(IReadOnlyList<RingNodeUnderTest> nodes)
    {
        foreach (var keyText in Keys)
        {
            var key = RingPalette.KeyOf(keyText);
            var closest = nodes.MinBy(n => n.Id.DistanceTo(key))!;
            foreach (var from in nodes)
            {
                using var route = await CmdJsonAsync(from.Node, "ring", "route", keyText);
                var rows = route.RootElement.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!, r => r.GetProperty("value").GetString()!);
                Assert.That(rows["destination-id"], Is.EqualTo(closest.Id.ToString()), $"route of {keyText} from {from.Name}");
                Assert.That(rows["destination"], Is.EqualTo(closest.Node.Endpoint()));
                var path = rows["path"].Split(" -> ");
                Assert.That(path[0], Is.EqualTo(from.Node.Endpoint()));
                Assert.That(path[^1], Is.EqualTo(closest.Node.Endpoint()));
                Assert.That(int.Parse(rows["hops"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(path.Length - 1));
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

    private sealed class NoRefs : IActorRefResolver
    {
        public IActorRef Resolve(string path) => throw new InvalidOperationException("ring messages carry no refs");
    }
}
