using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Node.Hosting;
using Totoro.Node.Modules;

namespace Totoro.Node.Cli;

/// <summary>
/// <c>totoro node --config FILE</c>: runs one node under the .NET Generic Host until SIGTERM or Ctrl-C, then leaves
/// gracefully (modules hand off within <c>totoro.node.shutdown-timeout</c>, then the transport closes).
/// </summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "HOCON file of this node (e.g. hocon/loopback/node1.conf)", Required = true };
        var check = new Option<bool>("--check") { Description = "Only read and validate the configuration, print the settings, exit" };
        var command = new Command("node", "Run a node: TCP transport, membership of seeds and peers, ops shell endpoint, modules") { config, check };
        command.SetAction(async (result, cancellation) =>
        {
            var path = result.GetValue(config)!.FullName;
            HoconConfig hocon;
            NodeSettings settings;
            try
            {
                hocon = NodeConfig.Load(path);
                settings = NodeSettings.FromConfig(hocon);
            }
            catch (Exception e) when (e is SettingsException or HoconException)
            {
                await Console.Error.WriteLineAsync($"totoro node: {e.Message}");
                return 2;
            }
            if (result.GetValue(check))
            {
                await Console.Out.WriteLineAsync(settings.ToString());
                return 0;
            }
            return await RunAsync(hocon, settings, cancellation);
        });
        return command;
    }

    private static async Task<int> RunAsync(HoconConfig hocon, NodeSettings settings, CancellationToken cancellation)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        // A port already in use is reported below in one line, not as the host's stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.AddSingleton<IHostLifetime, ConsoleLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout + TimeSpan.FromSeconds(5));
        builder.Services.AddTotoro(hocon);
        // Ring, FL (whose roles find roots through the ring) and the forest beside the ring, in that start order.
        builder.Services.AddTotoroFl();
        builder.Services.AddSingleton<INodeModule>(provider => new ForestModule(provider.GetRequiredService<RingModule>()));
        using var host = builder.Build();
        try
        {
            await host.RunAsync(cancellation);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            await Console.Error.WriteLineAsync($"totoro node: cannot listen on {settings.BindHost}:{settings.Port}: {e.Message}");
            return 3;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"totoro node: cannot listen on {settings.BindHost}:{settings.Port}: {e.Message}");
            return 3;
        }
        return 0;
    }
}
