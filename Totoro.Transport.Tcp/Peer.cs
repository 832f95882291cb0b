using Totoro.Transport.Tcp.Connection;

namespace Totoro.Transport.Tcp;

/// <summary>
/// What the transport knows about one remote address: its queue, the connection serving it (if any) and the
/// dial state. Fields other than <see cref="Queue"/> are guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class Peer(NodeAddress address, TcpTransportSettings settings)
{
    public NodeAddress Address { get; } = address;

    public PeerQueue Queue { get; } = new(settings.ControlQueueLength, settings.SendQueueLength);

    public Lock Gate { get; } = new();

    /// <summary>The connection that drains <see cref="Queue"/>; written under <see cref="Gate"/>, read racily by Send.</summary>
    public volatile PeerConnection? Connection;

    /// <summary>A dial loop runs (connecting, handshaking or waiting out a back-off).</summary>
    public bool Dialing;

    /// <summary>A dial attempt is in connect/TLS/handshake right now; an inbound dial from a higher address loses to it.</summary>
    public bool Handshaking;

    /// <summary>Incarnation seen at the last handshake; 0 before the first.</summary>
    public long LastIncarnation;
}
