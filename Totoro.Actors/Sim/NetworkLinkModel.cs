using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>
/// Plugs the <see cref="NetworkModel"/> into the kernel's <see cref="InMemoryTransport"/>: a kernel address is mapped
/// to its topology node, and the model's arrival time becomes the link delay. Queueing, distance and loss therefore
/// time every envelope on virtual time; bandwidth is charged on the envelope's bytes (serialized size, or
/// <see cref="ISizedMessage.WireSize"/> when messages pass by reference). Addresses that map to no node (test probes,
/// other systems) cross instantly.
/// </summary>
internal sealed class NetworkLinkModel(NetworkModel network, Func<Address, int?> nodeOf) : Totoro.Kernel.ILinkModel
{
    /// <summary>Ring simulations: the address book computes the node from the address.</summary>
    public NetworkLinkModel(NetworkModel network, RingAddressBook book)
        : this(network, address => book.NodeOf(address)?.Value)
    {
    }

    /// <summary>Clusters of named nodes: <paramref name="index"/> maps each node's address to its topology index.</summary>
    public NetworkLinkModel(NetworkModel network, ImmutableDictionary<Address, int> index)
        : this(network, address => index.TryGetValue(address, out int node) ? node : null)
    {
    }

    public LinkDecision Decide(in LinkRequest request, Random random)
    {
        if (nodeOf(request.From) is not { } from || nodeOf(request.To) is not { } to)
        {
            return LinkDecision.After(TimeSpan.Zero);
        }

        var outcome = network.Transmit(from, to, request.Bytes, request.Now);
        return outcome.Delivered ? LinkDecision.After(outcome.Arrival - request.Now) : LinkDecision.Drop;
    }
}
