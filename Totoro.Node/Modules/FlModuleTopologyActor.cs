using Microsoft.Extensions.Logging;
using Totoro.Actors.Fl;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Endpoint = Totoro.Transport.Tcp.NodeAddress;

namespace Totoro.Node.Modules;

/// <summary>
/// Derives the FL topology from the live ring: on every leaf-set change, peer failure, join, and every
/// <c>totoro.fl.topology-refresh</c>, it asks the ring actor for its state and builds a
/// <see cref="RingMemberTopology"/> of this node and every peer the ring knows (leaf set, routing table,
/// neighbourhood). A snapshot that differs from the last goes to <c>/user/fl</c> as <see cref="FlTopologyChanged"/>
/// (roles switch at their next round) and to the module (the palettes' view).
/// </summary>
internal sealed class FlModuleTopologyActor : ReceiveActor
{
    private readonly IActorRef _ring;
    private readonly RingEndpoints _endpoints;
    private readonly IActorRef _host;
    private readonly int _fanOut;
    private readonly TimeSpan _refresh;
    private readonly Action<RingMemberTopology> _publish;
    private readonly ILogger _logger;
    private RingMemberTopology? _current;

    public FlModuleTopologyActor(IActorRef ring, RingEndpoints endpoints, IActorRef host, int fanOut, TimeSpan refresh, Action<RingMemberTopology> publish, ILogger logger)
    {
        _ring = ring;
        _endpoints = endpoints;
        _host = host;
        _fanOut = fanOut;
        _refresh = refresh;
        _publish = publish;
        _logger = logger;
        Receive<RingLeafSetChanged>(_ => Reread());
        Receive<RingPeerFailed>(_ => Reread());
        Receive<RingJoined>(_ => Reread());
        Receive<RingRouteAbandoned>(_ => { });
        Receive<Refresh>(_ => Reread());
        Receive<RingStateSnapshot>(OnState);
    }

    protected override void PreStart()
    {
        _ring.Tell(new WatchLeafSet(Self), Self);
        _ring.Tell(new SubscribeRingEvents(Self), Self);
        Timers.StartPeriodicTimer("refresh", Refresh.Instance, _refresh);
        Reread();
    }

    private void Reread() => _ring.Tell(GetRingState.Instance, Self);

    private void OnState(RingStateSnapshot snapshot)
    {
        var state = snapshot.State.ZoneRing;
        var members = state.KnownPeers().Select(p => (p.Id, p.Address)).Prepend((state.Self.Id, state.Self.Address))
            .Select(p => _endpoints.EndpointOf(p.Address) is { } endpoint ? ToMember(p.Id, endpoint) : (RingMember?)null)
            .OfType<RingMember>();
        var topology = new RingMemberTopology(members, _fanOut);
        if (topology.SameAs(_current))
        {
            return;
        }

        _current = topology;
        _host.Tell(new FlTopologyChanged(topology), Self);
        _publish(topology);
        FlModuleLog.TopologyChanged(_logger, topology.Members.Length, string.Join(",", topology.Members.Select(m => m.Node.Host + ":" + m.Node.Port)));
    }

    private RingMember ToMember(NodeId id, string endpoint)
    {
        var peer = Endpoint.Parse(endpoint);
        return new RingMember(id, new Address(Context.System.Address.System, peer.Host, peer.Port));
    }

    private sealed record Refresh : ILocalMessage
    {
        public static Refresh Instance { get; } = new();
    }
}

internal static partial class FlModuleLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "FL host started; data sets: {Datasets}")]
    public static partial void Started(ILogger logger, string datasets);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "FL topology: {Members} ring members ({Endpoints})")]
    public static partial void TopologyChanged(ILogger logger, int members, string endpoints);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Data set {Dataset} is not served by this node: {Reason}")]
    public static partial void DatasetUnavailable(ILogger logger, string dataset, string reason);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "App {App} submitted from this node via {Via}")]
    public static partial void Submitted(ILogger logger, string app, string via);
}
