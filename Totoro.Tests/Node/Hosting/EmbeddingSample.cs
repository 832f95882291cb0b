// This file is the sample of docs/embedding.md; EmbeddingSampleTests runs it and checks the doc quotes it verbatim.
// begin-sample
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Totoro.Kernel;
using Totoro.Node.Hosting;
using Totoro.Node.Ops;

namespace Totoro.Tests.Node.Hosting;

public static class EmbeddingSample
{
    /// <summary>Hosts a node in an ordinary .NET app, uses its actor system, and stops it with the host.</summary>
    public static async Task<string> RunAsync(CancellationToken cancellation)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Totoro:Node:Name"] = "embedded",
            ["Totoro:Cluster:Secret"] = "an-embedded-cluster-secret",
            ["Totoro:Remote:Port"] = "0", // any free port
        });
        builder.Services.AddTotoro(builder.Configuration);
        builder.Services.AddTotoroModule<GreeterModule>();

        using var host = builder.Build();
        await host.StartAsync(cancellation);

        var node = host.Services.GetRequiredService<ITotoroNode>();
        var greeter = node.System.Resolve($"{node.Address}/user/greeter");
        var reply = await greeter.Ask<string>("embedding", TimeSpan.FromSeconds(5), node.System);

        await host.StopAsync(cancellation);
        return $"{node.Settings.Name}: {reply}";
    }
}

/// <summary>A module: its actors start with the node, its palette appears in `totoro cmd`.</summary>
public sealed class GreeterModule : INodeModule
{
    public string Name => "greeter";

    public void RegisterSerializers(SerializerRegistry registry)
    {
        // Messages that cross nodes get a protobuf serializer under a stable manifest here.
    }

    public void RegisterPalettes(PaletteRegistry palettes) => palettes.Add(new CommandPalette("greeter", "says hello",
        [new PaletteCommand("hello", "greets WHO", [new PaletteArgument("who", "whom to greet")],
            call => Task.FromResult(OpsTable.KeyValues("hello", [("greeting", $"hello {call.Arguments[0]}")])))]));

    public Task StartAsync(NodeContext context, CancellationToken cancellation)
    {
        context.System.ActorOf(Props.Create<GreeterActor>(), "greeter");
        return Task.CompletedTask;
    }

    public Task LeaveAsync(CancellationToken cancellation) => Task.CompletedTask;

    private sealed class GreeterActor : ReceiveActor
    {
        public GreeterActor() => Receive<string>(who => Sender?.Tell($"hello {who}", Self));
    }
}
// end-sample
