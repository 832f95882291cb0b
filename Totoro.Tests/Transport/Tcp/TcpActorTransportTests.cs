using Totoro.Kernel;
using Totoro.Tests.TestKit;
using Totoro.Transport.Tcp;

namespace Totoro.Tests.Transport.Tcp;

[NonParallelizable]
public sealed class TcpActorTransportTests
{
    private static async Task<(TcpActorTransport Transport, ActorSystem System)> StartNodeAsync(TcpActorTransportOptions? options = null)
    {
        var transport = new TcpActorTransport(TcpTestKit.Settings("actor-node"), TestSerializers.Registry, options);
        var address = await transport.StartAsync().Within();
        var system = ActorSystem.Create(address.System, new ActorSystemSettings
        {
            Host = address.Host,
            Port = address.Port,
            Transport = transport,
            Serialization = TestSerializers.Registry,
        });
        return (transport, system);
    }

    private static async Task StopAsync(TcpActorTransport transport, ActorSystem system)
    {
        await transport.StopAsync().Within();
        await system.Terminate().Within();
        await transport.DisposeAsync();
    }

    [Test]
    public void Kernel_ring_node_and_ops_manifests_take_the_control_lane_by_default()
    {
        var transport = new TcpActorTransport(TcpTestKit.Settings("lanes"), TestSerializers.Registry);
        Assert.That(transport.IsControl(KernelSerializers.WatchManifest), Is.True);
        Assert.That(transport.IsControl("ring.join.v1"), Is.True);
        Assert.That(transport.IsControl("node.hello.v1"), Is.True);
        Assert.That(transport.IsControl("fl.update.v1"), Is.False);
        Assert.That(transport.IsControl("test.ping.v1"), Is.False);
    }

    [Test]
    public async Task A_tell_to_a_remote_ref_arrives_as_an_envelope_on_the_configured_lane()
    {
        var (transport, system) = await StartNodeAsync(new TcpActorTransportOptions { ControlManifestPrefixes = ["test.ping"] });
        await using var raw = await TcpTestKit.StartAsync(TcpTestKit.Settings("raw"));
        try
        {
            var remote = system.Resolve($"totoro://totoro@{raw.Address}/user/target");
            remote.Tell(new Ping(7, "urgent"));
            remote.Tell("bulk text");
            await raw.Handler.WaitForAsync(2);

            var envelopes = raw.Handler.Received;
            Assert.That(envelopes.Select(e => (e.Envelope.Manifest, e.Lane)), Is.EquivalentTo(new[] { ("test.ping.v1", Lane.Control), ("test.string.v1", Lane.Bulk) }));
            Assert.That(envelopes[0].Envelope.Recipient, Is.EqualTo($"totoro://totoro@{raw.Address}/user/target"));
            Assert.That(envelopes[0].From, Is.EqualTo(new NodeAddress(system.Address.Host!, system.Address.Port)));
        }
        finally
        {
            await StopAsync(transport, system);
        }
    }

    [Test]
    public async Task A_message_larger_than_one_chunk_arrives_through_the_blob_path_intact()
    {
        var (transport, system) = await StartNodeAsync();
        await using var raw = await TcpTestKit.StartAsync(TcpTestKit.Settings("big-sender"));
        try
        {
            var echo = new TestProbe(system, "echo");
            var target = new NodeAddress(system.Address.Host!, system.Address.Port);
            var text = string.Create(3 * 1024 * 1024, 0, (span, _) =>
            {
                for (int i = 0; i < span.Length; i++)
                {
                    span[i] = (char)('a' + (i % 26));
                }
            });
            var payload = TestSerializers.Registry.Serialize(new Ping(11, text)).Bytes;

            Assert.That(raw.Transport.Send(target, new Totoro.Transport.Tcp.TransportEnvelope($"{system.Address}/user/echo", "", "test.ping.v1", payload)), Is.EqualTo(SendResult.Accepted));

            var received = echo.ExpectMsg<Ping>(timeout: TcpTestKit.Timeout);
            Assert.That(received.Seq, Is.EqualTo(11));
            Assert.That(received.Text, Is.EqualTo(text));
        }
        finally
        {
            await StopAsync(transport, system);
        }
    }

    [Test]
    public async Task An_unknown_manifest_is_counted_and_becomes_a_dead_letter_while_the_connection_stays()
    {
        var (transport, system) = await StartNodeAsync();
        await using var raw = await TcpTestKit.StartAsync(TcpTestKit.Settings("stranger"));
        try
        {
            var deadLetters = new TestProbe(system);
            system.EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
            var echo = new TestProbe(system, "echo");
            var target = new NodeAddress(system.Address.Host!, system.Address.Port);

            raw.Transport.Send(target, new Totoro.Transport.Tcp.TransportEnvelope($"{system.Address}/user/echo", "", "mystery.v1", new byte[] { 1, 2, 3 }));
            raw.Transport.Send(target, new Totoro.Transport.Tcp.TransportEnvelope($"{system.Address}/user/echo", "", "test.ping.v1", TestSerializers.Registry.Serialize(new Ping(9)).Bytes));

            Assert.That(deadLetters.ExpectMsg<DeadLetter>(timeout: TcpTestKit.Timeout).Message, Is.InstanceOf<Totoro.Kernel.TransportEnvelope>());
            Assert.That(echo.ExpectMsg<Ping>(timeout: TcpTestKit.Timeout).Seq, Is.EqualTo(9), "the same connection still delivers");
            Assert.That(transport.UnknownManifests, Is.EqualTo(1));
        }
        finally
        {
            await StopAsync(transport, system);
        }
    }

    [Test]
    public async Task Binding_an_address_the_transport_does_not_serve_is_refused()
    {
        var transport = new TcpActorTransport(TcpTestKit.Settings("strict"), TestSerializers.Registry);
        await transport.StartAsync().Within();
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => ActorSystem.Create("totoro", new ActorSystemSettings
            {
                Host = "127.0.0.1",
                Port = 1,
                Transport = transport,
                Serialization = TestSerializers.Registry,
            }));
            Assert.That(error!.Message, Does.Contain("cannot bind"));
        }
        finally
        {
            await transport.DisposeAsync();
        }
    }
}
