using Totoro.Kernel;
using Totoro.Node.Hosting;
using Totoro.Node.Membership;
using Totoro.Node.Ops;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Node.Hosting;

[NonParallelizable]
public sealed class TotoroNodeTests
{
    [Test]
    public async Task Three_nodes_through_one_seed_all_see_each_other_up()
    {
        await using var seed = await NodeTestKit.StartAsync("seed");
        var seedViews = seed.WatchMembership();
        await using var second = await NodeTestKit.StartAsync("second", seeds: [seed.Endpoint()]);
        await using var third = await NodeTestKit.StartAsync("third", seeds: [seed.Endpoint()]);
        var thirdViews = third.WatchMembership();

        var fromSeed = await seed.AwaitViewAsync(seedViews, v => v.UpCount() == 2);
        var fromThird = await third.AwaitViewAsync(thirdViews, v => v.UpCount() == 2);

        Assert.That(fromSeed.Up.Select(m => m.Name).Order(), Is.EqualTo(new[] { "second", "third" }));
        Assert.That(fromThird.Up.Select(m => m.Name).Order(), Is.EqualTo(new[] { "second", "seed" }));
        Assert.That(fromThird.Members[new(seed.Address.Host!, seed.Address.Port)].Seed, Is.True);
    }

    [Test]
    public async Task A_stopped_peer_is_seen_down_and_an_unreachable_seed_stays_joining()
    {
        await using var seed = await NodeTestKit.StartAsync("seed", seeds: ["127.0.0.1:1"]);
        var views = seed.WatchMembership();
        var peer = await NodeTestKit.StartAsync("peer", seeds: [seed.Endpoint()]);
        await seed.AwaitViewAsync(views, v => v.UpCount() == 1);

        await peer.StopAsync(CancellationToken.None).WaitAsync(NodeTestKit.Patience);

        var after = await seed.AwaitViewAsync(views, v => v.Members.Values.Any(m => m.Name == "peer" && m.Status == MemberStatus.Down));
        Assert.That(after.Members[new("127.0.0.1", 1)].Status, Is.EqualTo(MemberStatus.Joining));
        Assert.That(peer.IsRunning, Is.False);
    }

    [Test]
    public async Task Modules_register_start_and_leave_in_order_and_a_slow_leave_is_cut_at_the_timeout()
    {
        var journal = new List<string>();
        var fast = new RecordingModule("fast", journal, leaveForever: false);
        var slow = new RecordingModule("slow", journal, leaveForever: true);
        var node = await NodeTestKit.StartAsync("modular", "totoro.node.shutdown-timeout = 300ms", null, fast, slow);

        Assert.That(node.Palettes.TryGet("fast", out _), Is.True);
        Assert.That(node.System.UserActorPaths().Select(p => p.Elements), Does.Contain("/user/fast").And.Contain("/user/slow"));
        Assert.That(node.Modules.Select(m => m.Name), Is.EqualTo(new[] { "fast", "slow" }));

        await node.StopAsync(CancellationToken.None).WaitAsync(NodeTestKit.Patience);

        string[] seen;
        lock (journal)
        {
            seen = [.. journal];
        }
        Assert.That(seen[..5], Is.EqualTo(new[] { "fast:serializers", "slow:serializers", "fast:start", "slow:start", "slow:leave" }));
        Assert.That(seen, Does.Contain("fast:leave"), "the node moved on to the next module after the timeout");
        Assert.That(slow.LeaveToken.IsCancellationRequested, Is.True);
        Assert.That(node.IsRunning, Is.False);
    }

    [Test]
    public async Task A_module_that_fails_to_start_fails_the_start_and_leaves_no_listener_behind()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var node = new TotoroNode(NodeTestKit.Config("broken", $"totoro.remote.port = {port}"), [new FailingModule()]);

        var first = await Assert.ThrowsAsync<InvalidOperationException>(() => node.StartAsync(CancellationToken.None).WaitAsync(NodeTestKit.Patience));
        var second = await Assert.ThrowsAsync<InvalidOperationException>(() => node.StartAsync(CancellationToken.None).WaitAsync(NodeTestKit.Patience));

        Assert.That(first!.Message, Is.EqualTo("module failed on purpose"));
        Assert.That(second!.Message, Is.EqualTo("module failed on purpose"), "the failed start reset the node, so it can be started again");
        Assert.That(node.IsRunning, Is.False);
        using var rebind = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        Assert.DoesNotThrow(rebind.Start, "the node's listener was closed");
    }

    [Test]
    public async Task Node_metrics_include_transport_and_kernel_instruments_of_this_node_only()
    {
        await using var first = await NodeTestKit.StartAsync("first");
        await using var other = await NodeTestKit.StartAsync("other");
        
        var readings = first.CollectMetrics();

        Assert.That(readings.Select(r => r.Instrument), Does.Contain("totoro.node.actors").And.Contain("totoro.transport.tcp.messages.sent"));
        Assert.That(readings.Single(r => r.Instrument == "totoro.node.actors").Value, Is.EqualTo(first.System.UserActorPaths().Count));
        Assert.That(readings.Count(r => r.Instrument == "totoro.node.actors"), Is.EqualTo(1), "the other node's meters are not mixed in");
    }

    /// <summary>A module that records the node's calls; its leave either returns or waits until cancelled.</summary>
    private sealed class RecordingModule(string name, List<string> journal, bool leaveForever) : INodeModule
    {
        public string Name => name;

        public CancellationToken LeaveToken { get; private set; }

        public void RegisterSerializers(SerializerRegistry registry)
        {
            lock (journal)
            {
                journal.Add($"{name}:serializers");
            }
        }

        public void RegisterPalettes(PaletteRegistry palettes) => palettes.Add(new CommandPalette(name, $"the {name} module",
            [new PaletteCommand("hello", "greets", [new PaletteArgument("who", "whom to greet")], call => Task.FromResult(OpsTable.KeyValues("hello", [("greeting", $"hello {call.Arguments[0]} from {name}")])))]));

        public Task StartAsync(NodeContext context, CancellationToken cancellation)
        {
            lock (journal)
            {
                journal.Add($"{name}:start");
            }
            context.System.ActorOf(Props.Create<Idle>(), name);
            return Task.CompletedTask;
        }

        public async Task LeaveAsync(CancellationToken cancellation)
        {
            lock (journal)
            {
                journal.Add($"{name}:leave");
            }
            LeaveToken = cancellation;
            if (leaveForever)
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellation);
                }
                catch (OperationCanceledException)
                {
                    lock (journal)
                    {
                        journal.Add($"{name}:cancelled");
                    }
                    throw;
                }
            }
        }
    }

    private sealed class FailingModule : INodeModule
    {
        public string Name => "failing";

        public void RegisterSerializers(SerializerRegistry registry)
        {
        }

        public void RegisterPalettes(PaletteRegistry palettes)
        {
        }

        public Task StartAsync(NodeContext context, CancellationToken cancellation) => throw new InvalidOperationException("module failed on purpose");

        public Task LeaveAsync(CancellationToken cancellation) => Task.CompletedTask;
    }

    private sealed class Idle : ReceiveActor
    {
        public Idle() => ReceiveAny(_ => { });
    }

    internal static INodeModule Greeter(string name) => new RecordingModule(name, [], leaveForever: false);
}
