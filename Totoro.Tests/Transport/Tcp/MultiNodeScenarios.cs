using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Transport.Tcp;

/// <summary>
/// Multi-node kernel scenarios written once and run in two worlds: the deterministic in-memory world and real TCP on
/// 127.0.0.1 with thread-pool dispatchers. Every wait is a bounded wait on a signal (a probe's message); nothing sleeps
/// and nothing asserts a duration.
/// </summary>
public abstract class MultiNodeScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Starts <paramref name="nodes"/> nodes that can reach each other.</summary>
    protected abstract Task<IMultiNodeCluster> StartAsync(int nodes);

    internal sealed class Echo : ReceiveActor
    {
        public Echo()
        {
            Receive<Ping>(p => Sender?.Tell(p, Self));
            Receive<EchoRequest>(r => r.ReplyTo.Tell(new Ping(0, r.Text + " from " + Self.Path.Address.Port), Self));
        }
    }

    [Test]
    public async Task Every_node_pings_an_echo_on_every_other_node_and_hears_back()
    {
        await using var cluster = await StartAsync(3);
        var echoes = Enumerable.Range(0, 3).Select(i => cluster[i].ActorOf(Props.Create<Echo>(), "echo")).ToArray();
        for (var from = 0; from < 3; from++)
        {
            var probe = cluster.CreateProbe(from);
            for (var to = 0; to < 3; to++)
            {
                if (to != from)
                {
                    probe.Send(cluster.RefOn(from, echoes[to]), new Ping((from * 10) + to, $"{from}->{to}"));
                    Assert.That(probe.ExpectMsg<Ping>(timeout: Patience), Is.EqualTo(new Ping((from * 10) + to, $"{from}->{to}")));
                }
            }
        }
    }

    [Test]
    public async Task A_ref_carried_in_a_message_resolves_to_the_sending_node()
    {
        await using var cluster = await StartAsync(3);
        var echo = cluster[2].ActorOf(Props.Create<Echo>(), "echo");
        var probe = cluster.CreateProbe(0);
        cluster.RefOn(1, echo).Tell(new EchoRequest(cluster.RefOn(1, probe.Ref), "relay"));
        Assert.That(probe.ExpectMsg<Ping>(timeout: Patience).Text, Is.EqualTo($"relay from {cluster[2].Address.Port}"));
    }

    [Test]
    public async Task Messages_between_one_pair_arrive_in_send_order_while_another_pair_talks()
    {
        const int count = 300;
        await using var cluster = await StartAsync(3);
        var echo = cluster[1].ActorOf(Props.Create<Echo>(), "echo");
        var first = cluster.CreateProbe(0);
        var second = cluster.CreateProbe(2);
        for (var i = 0; i < count; i++)
        {
            first.Send(cluster.RefOn(0, echo), new Ping(i, "a"));
            second.Send(cluster.RefOn(2, echo), new Ping(i, "b"));
        }
        var fromFirst = Enumerable.Range(0, count).Select(_ => first.ExpectMsg<Ping>(timeout: Patience)).ToArray();
        var fromSecond = Enumerable.Range(0, count).Select(_ => second.ExpectMsg<Ping>(timeout: Patience)).ToArray();
        Assert.That(fromFirst.Select(p => p.Seq), Is.EqualTo(Enumerable.Range(0, count).Select(i => (long)i)));
        Assert.That(fromFirst.Select(p => p.Text).Distinct(), Is.EqualTo(new[] { "a" }));
        Assert.That(fromSecond.Select(p => p.Seq), Is.EqualTo(Enumerable.Range(0, count).Select(i => (long)i)));
    }

    [Test]
    public async Task Watchers_of_an_actor_on_a_stopped_node_get_Terminated_with_the_address()
    {
        await using var cluster = await StartAsync(3);
        var echo = cluster[1].ActorOf(Props.Create<Echo>(), "echo");
        var watcher = cluster.CreateProbe(0);
        var remoteEcho = cluster.RefOn(0, echo);
        watcher.Send(remoteEcho, new Ping(1));
        watcher.ExpectMsg<Ping>(timeout: Patience);
        watcher.Watch(remoteEcho);

        await cluster.StopNodeAsync(1);

        var terminated = watcher.ExpectTerminated(remoteEcho, Patience);
        Assert.That(terminated.AddressTerminated, Is.True);
    }

    [Test]
    public async Task A_stopped_node_restarted_on_its_address_is_reported_up_and_reachable_again()
    {
        await using var cluster = await StartAsync(3);
        cluster[2].ActorOf(Props.Create<Echo>(), "echo");
        var probe = cluster.CreateProbe(0);
        var events = cluster.CreateProbe(0);
        cluster[0].EventStream.Subscribe(events.Ref, typeof(RemoteNodeDown));
        cluster[0].EventStream.Subscribe(events.Ref, typeof(RemoteNodeUp));
        var remoteEcho = cluster[0].Resolve($"{cluster.AddressOf(2)}/user/echo");
        probe.Send(remoteEcho, new Ping(1));
        probe.ExpectMsg<Ping>(timeout: Patience);
        probe.Watch(remoteEcho);

        await cluster.StopNodeAsync(2);
        Assert.That(events.FishForMessage<RemoteNodeDown>(_ => true, Patience).Node, Is.EqualTo(cluster.AddressOf(2)));
        probe.ExpectTerminated(remoteEcho, Patience);

        var reborn = await cluster.RestartNodeAsync(2);
        reborn.ActorOf(Props.Create<Echo>(), "echo");
        probe.Send(remoteEcho, new Ping(2));
        Assert.That(probe.ExpectMsg<Ping>(timeout: Patience).Seq, Is.EqualTo(2));
        Assert.That(events.FishForMessage<RemoteNodeUp>(_ => true, Patience).Node, Is.EqualTo(cluster.AddressOf(2)));
    }
}

/// <summary>What a scenario needs from a set of nodes, whatever carries their messages.</summary>
public interface IMultiNodeCluster : IAsyncDisposable
{
    ActorSystem this[int node] { get; }

    Address AddressOf(int node);

    TestProbe CreateProbe(int node);

    /// <summary>The ref on node <paramref name="from"/> for an actor of another node.</summary>
    IActorRef RefOn(int from, IActorRef target);

    /// <summary>The node's process stops: its actors die and its connections close without a goodbye.</summary>
    Task StopNodeAsync(int node);

    /// <summary>A fresh incarnation of a stopped node on the same address.</summary>
    Task<ActorSystem> RestartNodeAsync(int node);
}

[TestFixture]
public sealed class InMemoryMultiNodeScenarios : MultiNodeScenarios
{
    protected override Task<IMultiNodeCluster> StartAsync(int nodes) => Task.FromResult<IMultiNodeCluster>(new InMemoryCluster(Scenario.Create(nodes, seed: 7)));

    private sealed class InMemoryCluster(Scenario scenario) : IMultiNodeCluster
    {
        public ActorSystem this[int node] => scenario[node];

        public Address AddressOf(int node) => scenario.AddressOf(node);

        public TestProbe CreateProbe(int node) => scenario.CreateProbe(node);

        public IActorRef RefOn(int from, IActorRef target) => scenario.RefOn(from, target);

        public Task StopNodeAsync(int node)
        {
            scenario.Crash(node);
            return Task.CompletedTask;
        }

        public Task<ActorSystem> RestartNodeAsync(int node) => Task.FromResult(scenario.Restart(node));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
