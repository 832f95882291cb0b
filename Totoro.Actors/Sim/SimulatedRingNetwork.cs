using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>
/// The links of a very large ring simulation: every ring node is an actor on one <see cref="ActorSystem"/> of a
/// deterministic world, and a send becomes a scheduled tell whose delay the <see cref="NetworkModel"/> computes
/// (uplink queue, distance, jitter, downlink queue, loss). It replaces the kernel transport's per-node system and
/// per-link bookkeeping, which do not fit 10⁶ nodes (see docs/architecture.md, "Simulation method").
/// A routed message sent to a crashed node comes back to its sender as <see cref="DeliveryFailed"/> after
/// <see cref="HopTimeout"/>, as a per-hop acknowledgement timeout would report it.
/// </summary>
/// <remarks>
/// Like the in-memory transport it is shared by all nodes of the simulation and used only from the world's single
/// thread; it holds the simulated network's state (who is up, where each node listens), not any node's state.
/// </remarks>
internal sealed class SimulatedRingNetwork(NetworkModel network, IScheduler scheduler, int capacity) : IRingLinks
{
    private readonly IActorRef?[] _nodes = new IActorRef?[capacity];

    public TimeSpan HopTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public bool ReportsFailedHops => true;

    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    /// <summary>Messages of the join protocol: routed joins, join replies, announcements and their replies.</summary>
    public long JoinMessages { get; private set; }

    /// <summary>Routing-table maintenance messages sent (row requests and replies).</summary>
    public long TableMaintenanceMessages { get; private set; }

    public void Attach(NodeAddress node, IActorRef actor) => _nodes[node.Value] = actor;

    /// <summary>The node crashes: messages in flight to it and later ones are lost.</summary>
    public void Detach(NodeAddress node) => _nodes[node.Value] = null;

    public void Send(NodeAddress from, NodeAddress to, object message, IActorRef sender) =>
        Send(from, to, message as RingEnvelope ?? ((AckedHop)message).Envelope, sender);

    private void Send(NodeAddress from, NodeAddress to, RingEnvelope message, IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        Sent++;
        if (message.Message is RouteMessage { Payload: JoinPayload } or JoinReply or Announce or AnnounceReply)
        {
            JoinMessages++;
        }
        else if (message.Message is RowRequest or RowReply)
        {
            TableMaintenanceMessages++;
        }

        var target = _nodes[to.Value];
        if (target is null)
        {
            Dropped++;
            if (message.Message is RouteMessage)
            {
                scheduler.ScheduleTellOnceUncancellable(HopTimeout, sender, new RingEnvelope(message.Ring, new DeliveryFailed(to, message.Message)));
            }

            return;
        }

        var now = RingClock.Now(scheduler.Time);
        var outcome = network.Transmit(from.Value, to.Value, RingWireSize.Of(message.Message), now);
        if (!outcome.Delivered)
        {
            Dropped++;
            return;
        }

        scheduler.ScheduleTellOnceUncancellable(outcome.Arrival - now, target, message, sender);
    }
}
