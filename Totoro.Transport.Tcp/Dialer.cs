using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace Totoro.Transport.Tcp;

/// <summary>A byte stream to a peer as a pipe pair, plus whatever must be disposed when it closes.</summary>
internal sealed class DuplexConnection(PipeReader input, PipeWriter output, Stream owner) : IDuplexPipe, IAsyncDisposable
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;

    private const int PipeSegmentBytes = 128 * 1024;

    public ValueTask DisposeAsync() => owner.DisposeAsync();

    /// <summary>Pipes over a stream; disposing the connection disposes the stream.</summary>
    public static DuplexConnection Over(Stream stream) => new(
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: PipeSegmentBytes, minimumReadSize: PipeSegmentBytes / 4, leaveOpen: true)),
        PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: PipeSegmentBytes, leaveOpen: true)),
        stream);
}

/// <summary>The client side: a <see cref="Socket"/> (optionally under <see cref="SslStream"/>) wrapped in pipes.</summary>
internal static class Dialer
{
    public static async Task<DuplexConnection> ConnectAsync(NodeAddress address, TcpTransportSettings settings, TlsContext? tls, CancellationToken cancellation)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
        {
            // Frames are coalesced before each flush, so Nagle would only delay control traffic.
            NoDelay = true,
            SendBufferSize = settings.SocketBufferBytes,
            ReceiveBufferSize = settings.SocketBufferBytes,
        };
        Stream stream;
        try
        {
            await socket.ConnectAsync(address.Host, address.Port, cancellation);
            stream = new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        if (tls is not null)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(tls.ClientOptions(address.Host), cancellation);
            }
            catch
            {
                await ssl.DisposeAsync();
                throw;
            }
            stream = ssl;
        }
        return DuplexConnection.Over(stream);
    }
}
