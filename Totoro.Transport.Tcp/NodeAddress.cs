using System.Globalization;

namespace Totoro.Transport.Tcp;

/// <summary>
/// Where a node listens. It is also the node's identity in the connection table: one connection per address pair,
/// and the dial from the lower address wins when both nodes dial each other at once.
/// </summary>
public readonly record struct NodeAddress(string Host, int Port) : IComparable<NodeAddress>
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    public int CompareTo(NodeAddress other)
    {
        var byHost = string.CompareOrdinal(Host, other.Host);
        return byHost != 0 ? byHost : Port.CompareTo(other.Port);
    }

    /// <summary>Parses <c>host:port</c> (IPv6 hosts in brackets: <c>[::1]:4000</c>).</summary>
    public static NodeAddress Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 0 or > 65535)
        {
            throw new FormatException($"'{text}' is not a node address of the form host:port");
        }
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        return new NodeAddress(host, port);
    }

    public static bool operator <(NodeAddress left, NodeAddress right) => left.CompareTo(right) < 0;

    public static bool operator >(NodeAddress left, NodeAddress right) => left.CompareTo(right) > 0;

    public static bool operator <=(NodeAddress left, NodeAddress right) => left.CompareTo(right) <= 0;

    public static bool operator >=(NodeAddress left, NodeAddress right) => left.CompareTo(right) >= 0;
}
