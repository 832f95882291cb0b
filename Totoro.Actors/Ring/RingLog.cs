using Microsoft.Extensions.Logging;

namespace Totoro.Actors.Ring;

/// <summary>Ring layer log events (ids 2000–2099).</summary>
internal static partial class RingLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Ring node {Node} joined its ring")]
    public static partial void Joined(ILogger logger, NodeHandle node);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Ring node {Node} declared peer {Peer} failed")]
    public static partial void PeerFailed(ILogger logger, NodeHandle node, NodeHandle peer);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Ring node {Node} abandoned a route to {Key} after {Hops} hops: {Reason}")]
    public static partial void RouteAbandoned(ILogger logger, NodeHandle node, NodeId key, int hops, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Ring node {Node} left the overlay")]
    public static partial void Left(ILogger logger, NodeHandle node);
}
