using Microsoft.Extensions.Logging;
using Totoro.Kernel;

namespace Totoro.Transport.Tcp;

/// <summary>Log messages of the kernel ↔ TCP bridge; event ids 5100-5119.</summary>
internal static partial class TcpActorTransportLog
{
    [LoggerMessage(5100, LogLevel.Warning, "Message {Manifest} for {Address} dropped: the address has no host and port")]
    public static partial void NoRemoteAddress(this ILogger logger, Address address, string manifest);

    [LoggerMessage(5101, LogLevel.Debug, "Message {Manifest} for {Address} not queued: {Result}")]
    public static partial void SendRefused(this ILogger logger, Address address, string manifest, SendResult result);

    [LoggerMessage(5102, LogLevel.Warning, "Peer {Peer} sent manifest {Manifest}, which no serializer reads; it becomes a dead letter")]
    public static partial void UnknownManifest(this ILogger logger, NodeAddress peer, string manifest);

    [LoggerMessage(5103, LogLevel.Debug, "Inbound connection from {Remote} refused: {Reason}")]
    public static partial void InboundRefused(this ILogger logger, string remote, CloseReason reason);
}
