using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Remoting;

public sealed class InMemoryTransportTests
{
    internal sealed class Echo : ReceiveActor
    {
        public Echo()
        {
            Receive<EchoRequest>(r => r.ReplyTo.Tell(new Ping(0, r.Text + " from " + Self.Path.Address.Host), Self));
            Receive<Ping>(p => Sender?.Tell(p, Self));
        }
    }

    private sealed record Opaque(int X);

    private static (Scenario, IActorRef EchoOn1, TestProbe ProbeOn0, IActorRef RemoteEcho) TwoNodes(ILinkModel? links = null, bool byReference = false)
    {
        var scenario = Scenario.Create(nodes: 2, seed: 7, linkModel: links, passByReference: byReference);
        var echo = scenario[1].ActorOf(Props.Create<Echo>(), "echo");
        var probe = scenario.CreateProbe(0);
        return (scenario, echo, probe, scenario.RefOn(0, echo));
    }

    [Test]
    public void A_tell_to_a_remote_ref_is_serialized_across_and_the_reply_finds_the_sender()
    {
        var (scenario, _, probe, remoteEcho) = TwoNodes();
        Assert.That(remoteEcho.GetType().Name, Is.EqualTo("RemoteActorRef"));
        probe.Send(remoteEcho, new Ping(1, "hi"));
        Assert.That(probe.ExpectMsg<Ping>(), Is.EqualTo(new Ping(1, "hi")));
        Assert.That(probe.LastSender!.Path.Address, Is.EqualTo(scenario.AddressOf(1)));
        Assert.That(scenario.Transport.Delivered, Is.EqualTo(2));
    }

    [Test]
    public void Ask_across_nodes_gets_its_reply_through_the_temp_path()
    {
        var (scenario, _, _, remoteEcho) = TwoNodes();
        var reply = remoteEcho.Ask<Ping>(new Ping(5, "asked"), TimeSpan.FromSeconds(1));
        Assert.That(scenario.Await(reply), Is.EqualTo(new Ping(5, "asked")));
    }

    [Test]
    public void Refs_inside_messages_resolve_on_the_receiving_node()
    {
        var (_, _, probe, remoteEcho) = TwoNodes();
        remoteEcho.Tell(new EchoRequest(probe.Ref, "hello"));
        Assert.That(probe.ExpectMsg<Ping>().Text, Is.EqualTo("hello from node-1"));
    }

    [Test]
    public void Link_latency_and_jitter_delay_delivery_but_keep_per_link_order()
    {
        var links = new SimulatedLinkModel(new LinkProfile(TimeSpan.FromMilliseconds(100), Jitter: TimeSpan.FromMilliseconds(50)));
        var (scenario, _, probe, remoteEcho) = TwoNodes(links);
        for (var i = 0; i < 50; i++)
        {
            probe.Send(remoteEcho, new Ping(i));
        }
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(199));
        var seqs = Enumerable.Range(0, 50).Select(_ => probe.ExpectMsg<Ping>().Seq).ToArray();
        Assert.That(seqs, Is.EqualTo(Enumerable.Range(0, 50).Select(i => (long)i)));
        Assert.That(scenario.World.Elapsed, Is.LessThan(TimeSpan.FromMilliseconds(301)));
    }

    [Test]
    public void A_drop_probability_of_one_loses_every_message()
    {
        var links = new SimulatedLinkModel(new LinkProfile(TimeSpan.Zero, DropProbability: 1));
        var (scenario, _, probe, remoteEcho) = TwoNodes(links);
        probe.Send(remoteEcho, new Ping(1));
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
        Assert.That(scenario.Transport.Dropped, Is.EqualTo(1));
    }

    [Test]
    public void Bandwidth_queues_bytes_behind_earlier_bytes_on_the_uplink()
    {
        var links = new SimulatedLinkModel();
        var (scenario, _, probe, remoteEcho) = TwoNodes(links);
        links.SetBandwidth(scenario.AddressOf(0), uplinkBytesPerSecond: 1_000, downlinkBytesPerSecond: 0);
        var text = new string('x', 900);
        var arrivals = new List<TimeSpan>();
        scenario.Transport.OnDelivered = d =>
        {
            if (d.From == scenario.AddressOf(0))
            {
                arrivals.Add(d.At);
            }
        };
        probe.Send(remoteEcho, new Ping(1, text));
        probe.Send(remoteEcho, new Ping(2, text));
        probe.ExpectMsg<Ping>(timeout: TimeSpan.FromSeconds(5));
        probe.ExpectMsg<Ping>(timeout: TimeSpan.FromSeconds(5));
        Assert.That(arrivals, Has.Count.EqualTo(2));
        Assert.That(arrivals[0], Is.GreaterThan(TimeSpan.FromSeconds(0.9)).And.LessThan(TimeSpan.FromSeconds(1.1)));
        Assert.That(arrivals[1], Is.GreaterThan(TimeSpan.FromSeconds(1.8)).And.LessThan(TimeSpan.FromSeconds(2.2)));
    }

    [Test]
    public void By_reference_mode_skips_serialization_but_still_applies_the_link_model()
    {
        var links = new SimulatedLinkModel(new LinkProfile(TimeSpan.FromMilliseconds(30)));
        var (scenario, echo, probe, _) = TwoNodes(links, byReference: true);
        var relay = scenario[1].ActorOf(Props.Create(() => new Relay()), "relay");
        var remoteRelay = scenario.RefOn(0, relay);
        probe.Send(remoteRelay, new Opaque(5));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(59));
        Assert.That(probe.ExpectMsg<Opaque>(timeout: TimeSpan.FromMilliseconds(2)), Is.EqualTo(new Opaque(5)));
        Assert.That(echo, Is.Not.Null);
    }

    [Test]
    public void Watching_a_remote_actor_delivers_Terminated_when_it_stops()
    {
        var (scenario, echo, probe, remoteEcho) = TwoNodes();
        probe.Watch(remoteEcho);
        scenario[1].Stop(echo);
        var terminated = probe.ExpectTerminated(remoteEcho);
        Assert.That(terminated.AddressTerminated, Is.False);
    }

    [Test]
    public void A_crashed_node_loses_its_actors_and_in_flight_messages_and_watchers_see_it_down()
    {
        var links = new SimulatedLinkModel(new LinkProfile(TimeSpan.FromMilliseconds(100)));
        var (scenario, _, probe, remoteEcho) = TwoNodes(links);
        probe.Watch(remoteEcho);
        scenario.Advance(TimeSpan.FromSeconds(1));
        probe.Send(remoteEcho, new Ping(1));
        scenario.Advance(TimeSpan.FromMilliseconds(50));
        scenario.Crash(1);
        var terminated = probe.ExpectTerminated(remoteEcho);
        Assert.That(terminated.AddressTerminated, Is.True);
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));

        var reborn = scenario.Restart(1);
        Assert.That(scenario.Transport.IncarnationOf(scenario.AddressOf(1)), Is.EqualTo(3));
        probe.Send(remoteEcho, new Ping(2));
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
        reborn.ActorOf(Props.Create<Echo>(), "echo");
        probe.Send(remoteEcho, new Ping(3));
        Assert.That(probe.ExpectMsg<Ping>().Seq, Is.EqualTo(3));
    }

    [Test]
    public void Only_nodes_that_watched_a_peer_hear_that_it_went_down_and_came_back()
    {
        var scenario = Scenario.Create(nodes: 3, seed: 3);
        var echo = scenario[1].ActorOf(Props.Create<Echo>(), "echo");
        var watcher = scenario.CreateProbe(0);
        var bystander = scenario.CreateProbe(2);
        scenario[0].EventStream.Subscribe(watcher.Ref, typeof(RemoteNodeDown));
        scenario[0].EventStream.Subscribe(watcher.Ref, typeof(RemoteNodeUp));
        scenario[2].EventStream.Subscribe(bystander.Ref, typeof(RemoteNodeDown));
        watcher.Watch(scenario.RefOn(0, echo));
        scenario.Crash(1);
        Assert.That(watcher.FishForMessage<RemoteNodeDown>(_ => true).Node, Is.EqualTo(scenario.AddressOf(1)));
        bystander.ExpectNoMsg(TimeSpan.FromSeconds(1));
        scenario.Restart(1);
        Assert.That(watcher.ExpectMsg<RemoteNodeUp>().Node, Is.EqualTo(scenario.AddressOf(1)));
    }

    [Test]
    public void Watching_an_actor_on_a_node_that_is_not_up_delivers_Terminated()
    {
        var scenario = Scenario.Create(nodes: 1, seed: 3);
        var probe = scenario.CreateProbe(0);
        var ghost = scenario[0].Resolve("totoro://totoro@node-9:2552/user/ghost");
        probe.Watch(ghost);
        Assert.That(probe.ExpectTerminated(ghost).AddressTerminated, Is.True);
    }

    [Test]
    public void Bytes_that_do_not_parse_become_a_dead_letter_and_the_node_keeps_working()
    {
        var (scenario, echo, probe, remoteEcho) = TwoNodes();
        var deadLetters = scenario.CreateProbe(1);
        scenario[1].EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
        var garbage = new TransportEnvelope(echo.Path.ToString(), null, "test.ping.v1", new byte[] { 0xFF, 0xFF, 0xFF });
        scenario.Transport.Send(scenario.AddressOf(0), scenario.AddressOf(1), garbage);
        Assert.That(deadLetters.ExpectMsg<DeadLetter>().Message, Is.SameAs(garbage));
        var badPath = new TransportEnvelope("not a path", null, "test.ping.v1", new byte[] { 8, 1 });
        scenario.Transport.Send(scenario.AddressOf(0), scenario.AddressOf(1), badPath);
        Assert.That(deadLetters.ExpectMsg<DeadLetter>().Message, Is.SameAs(badPath));
        probe.Send(remoteEcho, new Ping(9));
        Assert.That(probe.ExpectMsg<Ping>().Seq, Is.EqualTo(9));
    }

    [Test]
    public void A_partition_that_starts_while_a_message_is_in_flight_loses_it()
    {
        var links = new SimulatedLinkModel(new LinkProfile(TimeSpan.FromMilliseconds(100)));
        var (scenario, _, probe, remoteEcho) = TwoNodes(links);
        probe.Send(remoteEcho, new Ping(1));
        scenario.Advance(TimeSpan.FromMilliseconds(50));
        scenario.Partition([0], [1]);
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
        Assert.That(scenario.Transport.Dropped, Is.EqualTo(1));
        scenario.Heal();
        probe.Send(remoteEcho, new Ping(2));
        Assert.That(probe.ExpectMsg<Ping>().Seq, Is.EqualTo(2));
    }

    [Test]
    public void A_node_restarted_before_its_crashed_incarnation_finished_stopping_stays_bound()
    {
        var world = new DeterministicWorld(5);
        var transport = new InMemoryTransport(world);
        var settings = new ActorSystemSettings { Host = "node-1", Port = 2552, World = world, Transport = transport, Serialization = TestSerializers.Registry };
        var old = ActorSystem.Create("totoro", settings);
        var address = old.Address;
        transport.Crash(address);
        var reborn = ActorSystem.Create("totoro", settings);
        world.RunUntilIdle();
        Assert.That(old.WhenTerminated.IsCompleted, Is.True);
        Assert.That(transport.IsUp(address), Is.True);
        Assert.That(reborn.WhenTerminated.IsCompleted, Is.False);
    }

    private sealed class Relay : ReceiveActor
    {
        public Relay() => ReceiveAny(m => Sender?.Tell(m, Self));
    }
}
