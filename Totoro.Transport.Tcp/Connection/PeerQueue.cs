namespace Totoro.Transport.Tcp.Connection;

/// <summary>
/// The two bounded lanes of messages for one peer. It outlives connections: messages sent while the peer is
/// connecting wait here, and whichever connection currently serves the peer drains it.
/// </summary>
internal sealed class PeerQueue(int controlCapacity, int bulkCapacity)
{
    private readonly Lock gate = new();
    private readonly Queue<OutboundItem> control = new();
    private readonly Queue<OutboundItem> bulk = new();

    public int Count
    {
        get
        {
            lock (gate)
            {
                return control.Count + bulk.Count;
            }
        }
    }

    public bool TryEnqueue(in OutboundItem item, Lane lane)
    {
        lock (gate)
        {
            var queue = lane == Lane.Control ? control : bulk;
            if (queue.Count >= (lane == Lane.Control ? controlCapacity : bulkCapacity))
            {
                return false;
            }
            queue.Enqueue(item);
            return true;
        }
    }

    public bool HasControl
    {
        get
        {
            lock (gate)
            {
                return control.Count > 0;
            }
        }
    }

    /// <summary>Moves every queued control message into <paramref name="into"/>.</summary>
    public void TakeControl(List<OutboundItem> into)
    {
        lock (gate)
        {
            while (control.TryDequeue(out var item))
            {
                into.Add(item);
            }
        }
    }

    /// <summary>
    /// Moves bulk messages into <paramref name="into"/> until about <paramref name="maxPayloadBytes"/> are taken.
    /// A blob ends the take, so the messages behind it keep their order.
    /// </summary>
    public void TakeBulk(List<OutboundItem> into, int maxPayloadBytes)
    {
        var taken = 0;
        lock (gate)
        {
            while (taken < maxPayloadBytes && bulk.TryDequeue(out var item))
            {
                into.Add(item);
                if (item.IsBlob)
                {
                    return;
                }
                taken += item.Envelope.Payload.Length + item.RecipientBytes + item.SenderBytes + item.ManifestBytes;
            }
        }
    }

    /// <summary>Drops everything (the transport stopped); returns how many messages were dropped.</summary>
    public int Clear()
    {
        lock (gate)
        {
            var dropped = control.Count + bulk.Count;
            control.Clear();
            bulk.Clear();
            return dropped;
        }
    }
}
