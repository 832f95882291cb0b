using Totoro.Kernel;
using Totoro.Node.Membership;
using Totoro.Node.Ops;
using Totoro.Node.Wire;

namespace Totoro.Node.Hosting;

/// <summary>The node's own wire messages: membership hellos and the ops shell.</summary>
internal static class NodeSerializers
{
    public static SerializerRegistry Register(SerializerRegistry registry)
    {
        registry.Register<Hello, HelloWire>("node.hello.v1", h => ToWire(h.Cluster, h.Name, h.Zone, h.Known), w => new Hello(w.Cluster, w.Name, w.Zone, [.. w.Known]));
        registry.Register<HelloAck, HelloWire>("node.hello-ack.v1", h => ToWire(h.Cluster, h.Name, h.Zone, h.Known), w => new HelloAck(w.Cluster, w.Name, w.Zone, [.. w.Known]));
        registry.Register<OpsRequest, OpsRequestWire>(
            "ops.request.v1",
            r => new OpsRequestWire { Token = r.Token, Palette = r.Palette, Command = r.Command, Args = { r.Args } },
            w => new OpsRequest(w.Token, w.Palette, w.Command, [.. w.Args]));
        registry.Register<OpsReply, OpsReplyWire>("ops.reply.v1", r => new OpsReplyWire { Error = r.Error, Json = r.Json }, w => new OpsReply(w.Error, w.Json));
        return registry;
    }

    private static HelloWire ToWire(string cluster, string name, string zone, IReadOnlyList<string> known) =>
        new() { Cluster = cluster, Name = name, Zone = zone, Known = { known } };
}
