using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Serialization;

public sealed class SerializerRegistryTests
{
    private sealed record NotRegistered(int X);

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender?.Tell(m));
    }

    [Test]
    public void Kernel_messages_round_trip_under_stable_manifests()
    {
        var system = Worlds.Deterministic();
        var echo = system.ActorOf(Props.Create<Echo>(), "echo");
        system.World!.RunUntilIdle();
        var registry = TestSerializers.Registry;
        var (manifest, bytes) = registry.Serialize(new Terminated(echo, AddressTerminated: true));
        Assert.That(manifest, Is.EqualTo("kernel.terminated.v1"));
        var back = (Terminated)registry.Deserialize(manifest, bytes, system);
        Assert.That(back.ActorRef, Is.SameAs(echo));
        Assert.That(back.AddressTerminated, Is.True);
        Assert.That(registry.Deserialize("kernel.poison-pill.v1", registry.Serialize(PoisonPill.Instance).Bytes, system), Is.SameAs(PoisonPill.Instance));
        var failure = (StatusFailure)registry.Deserialize("kernel.status-failure.v1", registry.Serialize(new StatusFailure(new TimeoutException("late"))).Bytes, system);
        Assert.That(failure.Cause.Message, Does.Contain("TimeoutException").And.Contain("late"));
    }

    [Test]
    public void Domain_records_map_through_their_protobuf_adapter()
    {
        var system = Worlds.Deterministic();
        var registry = TestSerializers.Registry;
        var (manifest, bytes) = registry.Serialize(new Ping(7, "seven"));
        Assert.That(manifest, Is.EqualTo("test.ping.v1"));
        Assert.That(registry.Deserialize(manifest, bytes, system), Is.EqualTo(new Ping(7, "seven")));
    }

    [Test]
    public void Unknown_types_and_manifests_and_garbage_bytes_are_rejected()
    {
        var system = Worlds.Deterministic();
        var registry = TestSerializers.Registry;
        Assert.That(() => registry.Serialize(new NotRegistered(1)), Throws.TypeOf<MessageSerializationException>());
        Assert.That(() => registry.Deserialize("nope.v1", [], system), Throws.TypeOf<MessageSerializationException>());
        Assert.That(() => registry.Deserialize("test.ping.v1", [0xFF, 0xFF, 0xFF], system), Throws.TypeOf<MessageSerializationException>());
    }

    [Test]
    public void A_manifest_cannot_be_claimed_by_two_types()
    {
        var registry = SerializerRegistry.CreateWithKernelMessages();
        Assert.That(
            () => registry.Register<Ping, Totoro.Tests.Wire.PingWire>("kernel.terminated.v1", p => new(), w => new Ping(0)),
            Throws.InvalidOperationException);
    }

    [Test]
    public void Serialize_everything_mode_rejects_an_unserializable_local_message()
    {
        var system = ActorSystem.Create("test", new ActorSystemSettings
        {
            World = new DeterministicWorld(1),
            Serialization = TestSerializers.Registry,
            SerializeAllMessages = true,
        });
        var echo = system.ActorOf(Props.Create<Echo>());
        Assert.That(() => echo.Tell(new NotRegistered(1)), Throws.TypeOf<MessageSerializationException>());
        var probe = new TestProbe(system);
        probe.Send(echo, new Ping(1, "ok"));
        var back = probe.ExpectMsg<Ping>();
        Assert.That(back, Is.EqualTo(new Ping(1, "ok")));
    }
}
