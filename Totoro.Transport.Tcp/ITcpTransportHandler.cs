namespace Totoro.Transport.Tcp;

/// <summary>
/// The upper layer (the kernel's transport adapter). Calls arrive on connection threads, concurrently for different
/// peers but in order for one peer; they must return quickly (hand the message to a mailbox, do not process it).
/// </summary>
public interface ITcpTransportHandler
{
    /// <summary>An envelope arrived. Return anything but Accepted and the connection is closed with that reason.</summary>
    InboundResult OnEnvelope(in InboundEnvelope envelope);

    /// <summary>A peer completed the handshake; <see cref="PeerInfo.Restarted"/> flags a new incarnation.</summary>
    void OnPeerConnected(PeerInfo peer);

    /// <summary>The connection to an authenticated peer ended; messages still queued for it wait for a reconnect.</summary>
    void OnPeerDisconnected(PeerInfo peer, CloseReason reason);

    /// <summary>
    /// An inbound connection was refused before it authenticated (bad proof, wrong version, garbage, TLS failure,
    /// timeout); <paramref name="remote"/> is the socket's remote end point. Counted under the rejects metric too.
    /// </summary>
    void OnInboundRefused(string remote, CloseReason reason);

    /// <summary>A dial attempt failed; the transport retries with back-off while messages are queued.</summary>
    void OnPeerUnreachable(NodeAddress address, int consecutiveFailures, CloseReason reason);
}
