using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Totoro.Transport.Tcp;

/// <summary>
/// The server side: Kestrel with one endpoint whose connections go to <see cref="TcpConnectionHandler"/>, over
/// <see cref="SocketConnectionListenerFactory"/> instead of Kestrel's socket transport.
/// </summary>
internal sealed class KestrelListener : IAsyncDisposable
{
    private readonly KestrelServer server;
    private readonly ServiceProvider services;

    private KestrelListener(KestrelServer server, ServiceProvider services, IPEndPoint endPoint)
    {
        this.server = server;
        this.services = services;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static async Task<KestrelListener> StartAsync(TcpTransport transport, TcpTransportSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellation)
    {
        var services = new ServiceCollection()
            .AddSingleton(new TcpConnectionHandler(transport))
            .BuildServiceProvider();
        var options = new KestrelServerOptions { ApplicationServices = services, AddServerHeader = false };
        options.Limits.MaxConcurrentConnections = settings.MaxInboundConnections;
        var address = IPAddress.TryParse(settings.BindHost, out var literal)
            ? literal
            : (await Dns.GetHostAddressesAsync(settings.BindHost, cancellation))[0];
        ListenOptions? endpoint = null;
        options.Listen(address, settings.BindPort, listen =>
        {
            endpoint = listen;
            listen.UseConnectionHandler<TcpConnectionHandler>();
        });
        var server = new KestrelServer(Options.Create(options), new SocketConnectionListenerFactory(settings), loggerFactory);
        try
        {
            await server.StartAsync(new NoHttpApplication(), cancellation);
        }
        catch
        {
            server.Dispose();
            await services.DisposeAsync();
            throw;
        }
        return new KestrelListener(server, services, endpoint!.IPEndPoint!);
    }

    public async ValueTask DisposeAsync()
    {
        await server.StopAsync(CancellationToken.None);
        server.Dispose();
        await services.DisposeAsync();
    }

    /// <summary>Kestrel requires an HTTP application to start; this endpoint never routes a connection to it.</summary>
    private sealed class NoHttpApplication : IHttpApplication<IFeatureCollection>
    {
        public IFeatureCollection CreateContext(IFeatureCollection contextFeatures) =>
            throw new InvalidOperationException("The Totoro transport endpoint does not serve HTTP.");

        public Task ProcessRequestAsync(IFeatureCollection context) => Task.CompletedTask;

        public void DisposeContext(IFeatureCollection context, Exception? exception)
        {
        }
    }
}

/// <summary>Hands each accepted Kestrel connection to the transport.</summary>
internal sealed class TcpConnectionHandler(TcpTransport transport) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) => transport.AcceptAsync(connection.Transport, connection.RemoteEndPoint?.ToString() ?? "unknown");
}
