using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Totoro.Transport.Tcp;

/// <summary>
/// Kestrel's transport for the transport endpoint: a plain listening <see cref="Socket"/> whose accepted connections
/// get the same pipes as dialed ones (<see cref="DuplexConnection"/>, 128 KiB receive segments). Kestrel's socket
/// transport reads into 4 KiB pool blocks, one read and one pipe wake-up per 4 KiB, and its pool cannot be
/// replaced; with this factory the accepting side reads as much per syscall as the dialing side.
/// </summary>
internal sealed class SocketConnectionListenerFactory(TcpTransportSettings settings) : IConnectionListenerFactory
{
    private const int Backlog = 512;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return ValueTask.FromResult<IConnectionListener>(new SocketConnectionListener(socket, settings));
    }
}

internal sealed class SocketConnectionListener(Socket socket, TcpTransportSettings settings) : IConnectionListener
{
    private long nextId;

    public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Socket accepted;
        try
        {
            accepted = await socket.AcceptAsync(cancellationToken);
        }
        catch (Exception unbound) when (unbound is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
        {
            // Kestrel's contract: null once the listener is unbound.
            return null;
        }
        accepted.NoDelay = true;
        accepted.SendBufferSize = settings.SocketBufferBytes;
        accepted.ReceiveBufferSize = settings.SocketBufferBytes;
        return new SocketConnectionContext(accepted, Interlocked.Increment(ref nextId));
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One accepted socket as a Kestrel connection; disposing it closes the socket.</summary>
internal sealed class SocketConnectionContext : ConnectionContext
{
    private readonly Socket socket;
    private readonly DuplexConnection connection;
    private readonly CancellationTokenSource closed = new();

    public SocketConnectionContext(Socket socket, long id)
    {
        this.socket = socket;
        connection = DuplexConnection.Over(new NetworkStream(socket, ownsSocket: true));
        ConnectionId = $"totoro-{id}";
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectionClosed = closed.Token;
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override System.IO.Pipelines.IDuplexPipe Transport
    {
        get => connection;
        set => throw new NotSupportedException("The transport pipes of a Totoro connection are fixed.");
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        // Pending reads and writes fail at once; the connection's loops see a connection loss and end.
        socket.Dispose();
        closed.Cancel();
    }

    public override async ValueTask DisposeAsync()
    {
        await connection.DisposeAsync();
        // Not disposed: Kestrel may still call Abort, and a token source without a timer holds nothing to free.
        await closed.CancelAsync();
    }
}
