using System.Collections.Concurrent;
using System.Text;

namespace Totoro.Actors.Ring;

/// <summary>
/// The address book of a ring node in its own process: maps the core's 32-bit <see cref="NodeAddress"/> handle to the
/// kernel endpoint (<c>host:port</c>) of that node. A node's handle is a hash of its endpoint, so every process
/// derives the same handle for the same node; the endpoint behind a handle learned from a peer arrives with the
/// handle on the wire (<see cref="RingSerializers"/> fills the book as it reads). Shared between the transport's
/// serializer threads and the ring actor, hence concurrent.
/// </summary>
internal sealed class RingEndpoints
{
    private readonly ConcurrentDictionary<int, string> _endpoints = new();
    private long _collisions;

    /// <summary>The handle of <paramref name="endpoint"/> (FNV-1a of its UTF-8 bytes), remembered in the book.</summary>
    public NodeAddress Add(string endpoint)
    {
        var address = HandleOf(endpoint);
        Learn(address, endpoint);
        return address;
    }

    /// <summary>
    /// Records the endpoint read with a handle. A handle that does not hash from its endpoint is a protocol error; a
    /// second endpoint with the same hash (a collision) keeps the first, and <see cref="Collisions"/> counts it.
    /// </summary>
    public void Learn(NodeAddress address, string endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        if (HandleOf(endpoint) != address)
        {
            throw new Kernel.MessageSerializationException($"Ring handle {address} does not belong to endpoint {endpoint}");
        }

        var known = _endpoints.GetOrAdd(address.Value, endpoint);
        if (!string.Equals(known, endpoint, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _collisions);
        }
    }

    /// <summary>Endpoints that hashed to a handle already taken by another endpoint (not reachable through the ring).</summary>
    public long Collisions => Interlocked.Read(ref _collisions);

    public string? EndpointOf(NodeAddress address) => _endpoints.TryGetValue(address.Value, out var endpoint) ? endpoint : null;

    public static NodeAddress HandleOf(string endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(endpoint))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return new NodeAddress(unchecked((int)hash));
    }
}
