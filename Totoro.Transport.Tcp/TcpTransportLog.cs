using Microsoft.Extensions.Logging;

namespace Totoro.Transport.Tcp;

/// <summary>Source-generated log messages of the TCP transport; event ids 5000-5099.</summary>
internal static partial class TcpTransportLog
{
    [LoggerMessage(5000, LogLevel.Information, "TCP transport {NodeId} listening on {Address} (tls: {Tls})")]
    public static partial void Listening(this ILogger logger, string nodeId, NodeAddress address, bool tls);

    [LoggerMessage(5001, LogLevel.Information, "TCP transport on {Address} stopped")]
    public static partial void Stopped(this ILogger logger, NodeAddress address);

    [LoggerMessage(5002, LogLevel.Information, "Peer {Peer} ({NodeId}, incarnation {Incarnation}) connected {Direction}; restarted: {Restarted}")]
    public static partial void PeerConnected(this ILogger logger, NodeAddress peer, string nodeId, long incarnation, ConnectionDirection direction, bool restarted);

    [LoggerMessage(5003, LogLevel.Information, "Peer {Peer} disconnected: {Reason}")]
    public static partial void PeerDisconnected(this ILogger logger, NodeAddress peer, CloseReason reason);

    [LoggerMessage(5004, LogLevel.Warning, "Connection from {Remote} rejected: {Reason} ({Detail})")]
    public static partial void Rejected(this ILogger logger, string remote, CloseReason reason, string detail);

    [LoggerMessage(5005, LogLevel.Warning, "Peer {Peer} closed for protocol violation {Reason}: {Detail}")]
    public static partial void Violation(this ILogger logger, NodeAddress peer, CloseReason reason, string detail);

    [LoggerMessage(5006, LogLevel.Debug, "Dial to {Peer} failed ({Failures} in a row): {Reason}; retry in {Delay}")]
    public static partial void DialFailed(this ILogger logger, NodeAddress peer, int failures, CloseReason reason, TimeSpan delay);

    [LoggerMessage(5007, LogLevel.Debug, "Dial to {Peer} refused as duplicate; the peer's own connection serves the pair")]
    public static partial void DialDuplicate(this ILogger logger, NodeAddress peer);

    [LoggerMessage(5008, LogLevel.Error, "Handler failed on a message from {Peer}; connection closed")]
    public static partial void HandlerFailed(this ILogger logger, NodeAddress peer, Exception exception);

    [LoggerMessage(5011, LogLevel.Error, "Connection to {Peer} failed internally; connection closed")]
    public static partial void InternalError(this ILogger logger, NodeAddress peer, Exception exception);

    [LoggerMessage(5009, LogLevel.Debug, "Connection to {Peer} lost: {Detail}")]
    public static partial void ConnectionLost(this ILogger logger, NodeAddress peer, string detail);

    [LoggerMessage(5010, LogLevel.Warning, "Dropped {Count} queued messages for {Peer} at shutdown")]
    public static partial void DroppedAtShutdown(this ILogger logger, int count, NodeAddress peer);
}
