namespace Totoro.Kernel;

/// <summary>
/// The default link model: a profile per link (or the default), and optional per-node bandwidth. With bandwidth set,
/// an envelope first queues behind earlier bytes on the sender's uplink, crosses the link's latency, then queues
/// behind earlier bytes on the receiver's downlink. Mutable configuration; used only from the world's thread.
/// </summary>
public sealed class SimulatedLinkModel : ILinkModel
{
    private readonly Dictionary<(Address From, Address To), LinkProfile> _links = [];
    private readonly Dictionary<Address, Bandwidth> _bandwidth = [];

    public SimulatedLinkModel(LinkProfile? defaultProfile = null) => Default = defaultProfile ?? LinkProfile.Instant;

    public LinkProfile Default { get; set; }

    public void SetLink(Address from, Address to, LinkProfile profile) => _links[(from, to)] = profile;

    /// <summary>Caps a node's uplink and downlink in bytes per second (0 = unlimited).</summary>
    public void SetBandwidth(Address node, long uplinkBytesPerSecond, long downlinkBytesPerSecond) =>
        _bandwidth[node] = new Bandwidth(uplinkBytesPerSecond, downlinkBytesPerSecond);

    public LinkDecision Decide(in LinkRequest request, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var profile = _links.GetValueOrDefault((request.From, request.To)) ?? Default;
        if (profile.DropProbability > 0 && random.NextDouble() < profile.DropProbability)
        {
            return LinkDecision.Drop;
        }
        var latency = profile.Latency;
        if (profile.Jitter > TimeSpan.Zero)
        {
            latency += TimeSpan.FromTicks((long)(random.NextDouble() * profile.Jitter.Ticks));
        }
        var departure = request.Now;
        if (_bandwidth.TryGetValue(request.From, out var up) && up.UplinkBytesPerSecond > 0)
        {
            departure = Max(departure, up.UplinkFreeAt) + Transmission(request.Bytes, up.UplinkBytesPerSecond);
            up.UplinkFreeAt = departure;
        }
        var arrival = departure + latency;
        if (_bandwidth.TryGetValue(request.To, out var down) && down.DownlinkBytesPerSecond > 0)
        {
            arrival = Max(arrival, down.DownlinkFreeAt) + Transmission(request.Bytes, down.DownlinkBytesPerSecond);
            down.DownlinkFreeAt = arrival;
        }
        return LinkDecision.After(arrival - request.Now);
    }

    private static TimeSpan Transmission(int bytes, long bytesPerSecond) =>
        TimeSpan.FromTicks((long)Math.Ceiling(bytes * (double)TimeSpan.TicksPerSecond / bytesPerSecond));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class Bandwidth(long uplinkBytesPerSecond, long downlinkBytesPerSecond)
    {
        public long UplinkBytesPerSecond { get; } = uplinkBytesPerSecond;

        public long DownlinkBytesPerSecond { get; } = downlinkBytesPerSecond;

        public TimeSpan UplinkFreeAt { get; set; }

        public TimeSpan DownlinkFreeAt { get; set; }
    }
}
