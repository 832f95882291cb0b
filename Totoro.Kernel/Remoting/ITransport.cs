namespace Totoro.Kernel;

/// <summary>
/// The remoting seam: moves envelopes between node addresses. One transport may serve many local nodes (the in-memory
/// one serves all nodes of a process); each bound node gets its inbound traffic via its listener, and up/down events
/// only for the peers it asked to monitor, so a million-node simulation does not broadcast every join and crash.
/// </summary>
public interface ITransport
{
    /// <summary>When true, envelopes carry message objects instead of bytes (in-process simulations at large scale).</summary>
    bool PassByReference { get; }

    void Bind(Address local, ITransportListener listener);

    void Unbind(Address local);

    /// <summary>Sends without blocking; delivery is at most once and in order per (from, to) pair.</summary>
    void Send(Address from, Address to, TransportEnvelope envelope);

    /// <summary>
    /// Starts or stops reporting <paramref name="peer"/>'s up/down events to <paramref name="local"/>'s listener.
    /// Monitoring a peer that is not up reports it down.
    /// </summary>
    void MonitorPeer(Address local, Address peer, bool monitor);
}
