using Microsoft.Extensions.Logging;
using Totoro.Transport.Tcp.Connection;

namespace Totoro.Transport.Tcp;

/// <summary>What every connection of one transport shares.</summary>
internal sealed record TransportContext(
    TcpTransportSettings Settings,
    ITcpTransportHandler Handler,
    TcpTransportMetrics Metrics,
    ILogger Logger,
    TimeProvider Time,
    BlobMemory BlobMemory);
