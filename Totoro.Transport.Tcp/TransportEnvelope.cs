namespace Totoro.Transport.Tcp;

/// <summary>Which queue a message waits in. Control is always written ahead of bulk data.</summary>
public enum Lane : byte
{
    /// <summary>Heartbeats, ring maintenance: small, latency sensitive, never queued behind a blob.</summary>
    Control = 0,

    /// <summary>Everything else, in send order per peer; large payloads go as chunked blobs.</summary>
    Bulk = 1,
}

/// <summary>
/// One message for an actor on another node. The transport does not look inside <see cref="Payload"/>; the
/// manifest tells the receiver's serializer registry how to read it. The payload must not be mutated after Send.
/// </summary>
public readonly record struct TransportEnvelope(string Recipient, string Sender, string Manifest, ReadOnlyMemory<byte> Payload);

/// <summary>An envelope that arrived from an authenticated peer.</summary>
/// <param name="Blob">
/// Set when the message travelled as a chunked blob: its bytes are here, in pooled segments, and
/// <c>Envelope.Payload</c> is empty. Released when OnEnvelope returns unless the handler calls
/// <see cref="BlobPayload.Retain"/>.
/// </param>
public readonly record struct InboundEnvelope(NodeAddress From, Lane Lane, TransportEnvelope Envelope, BlobPayload? Blob = null);

/// <summary>Outcome of <see cref="TcpTransport.Send"/>. Everything but <see cref="Accepted"/> is counted as a drop.</summary>
public enum SendResult
{
    /// <summary>Queued for the peer; delivered unless the connection is lost first (at most once).</summary>
    Accepted,

    /// <summary>Back-pressure: the peer's queue for this lane holds its configured maximum.</summary>
    QueueFull,

    /// <summary>Payload above the blob limit, header strings above their limit, or a control message that would need chunking.</summary>
    TooLarge,

    /// <summary>The transport is not running.</summary>
    Stopped,

    /// <summary>The target is this node's own address, or the envelope has no manifest.</summary>
    InvalidEnvelope,
}

/// <summary>What the upper layer made of an inbound envelope.</summary>
public enum InboundResult
{
    Accepted,

    /// <summary>No serializer for the manifest: the peer speaks a protocol this node does not; the connection is closed.</summary>
    UnknownManifest,

    /// <summary>The payload did not parse under its manifest; the connection is closed.</summary>
    MalformedPayload,
}

public enum ConnectionDirection
{
    Inbound,
    Outbound,
}

/// <summary>An authenticated peer, as learned from its handshake.</summary>
/// <param name="Restarted">The peer was seen before with a different incarnation: it restarted and lost its state.</param>
public sealed record PeerInfo(NodeAddress Address, string NodeId, long Incarnation, bool Restarted, ConnectionDirection Direction);
