using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>
/// Plugs the <see cref="NetworkModel"/> into the kernel's <see cref="InMemoryTransport"/>: a kernel address is mapped
/// to its topology node through the ring address book, and the model's arrival time becomes the link delay. Queueing,
/// distance and loss therefore time every envelope on virtual time. Addresses outside the book (test probes, other
/// systems) cross instantly.
/// </summary>
internal sealed class NetworkLinkModel(NetworkModel network, RingAddressBook book) : Totoro.Kernel.ILinkModel
{
    public LinkDecision Decide(in LinkRequest request, Random random)
    {
        if (book.NodeOf(request.From) is not { } from || book.NodeOf(request.To) is not { } to)
        {
            return LinkDecision.After(TimeSpan.Zero);
        }

        var outcome = network.Transmit(from.Value, to.Value, request.Bytes, request.Now);
        return outcome.Delivered ? LinkDecision.After(outcome.Arrival - request.Now) : LinkDecision.Drop;
    }
}
