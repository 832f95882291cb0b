using Totoro.Kernel;
using Totoro.Tests.Wire;

namespace Totoro.Tests.TestKit;

/// <summary>Serializable test messages.</summary>
public sealed record Ping(long Seq, string Text = "");

/// <summary>Carries a ref in its body, to exercise ref resolution on deserialization.</summary>
public sealed record EchoRequest(IActorRef ReplyTo, string Text);

/// <summary>The registry test scenarios use: kernel messages plus the test messages.</summary>
public static class TestSerializers
{
    public static SerializerRegistry Registry { get; } = Create();

    private static SerializerRegistry Create()
    {
        var registry = SerializerRegistry.CreateWithKernelMessages();
        registry.Register<Ping, PingWire>("test.ping.v1", p => new PingWire { Seq = p.Seq, Text = p.Text }, w => new Ping(w.Seq, w.Text));
        registry.Register<EchoRequest, EchoRequestWire>(
            "test.echo-request.v1",
            e => new EchoRequestWire { ReplyTo = e.ReplyTo.Path.ToString(), Text = e.Text },
            (w, resolver) => new EchoRequest(resolver.Resolve(w.ReplyTo), w.Text));
        registry.Register<string, PingWire>("test.string.v1", s => new PingWire { Text = s }, w => w.Text);
        return registry;
    }
}
