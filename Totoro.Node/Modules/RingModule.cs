using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Node.Hosting;
using Totoro.Node.Membership;
using Totoro.Node.Ops;
using Endpoint = Totoro.Transport.Tcp.NodeAddress;
using RingAddress = Totoro.Actors.Ring.NodeAddress;

namespace Totoro.Node.Modules;

/// <summary>
/// Layer 1 in a real node: the node's <see cref="RingMembershipActor"/> over the TCP transport, and the <c>ring</c>
/// palette. A ring handle is the hash of the node's endpoint (<see cref="RingEndpoints"/>); the endpoint travels with
/// every handle on the wire, so any node can reach a peer it learned of from another. At start the node joins through
/// the first seed that answers within <c>totoro.ring.seed-wait</c>; a seed that hears from no other seed creates the ring.
/// </summary>
public sealed class RingModule : INodeModule
{
    /// <summary>The ring actor's name under <c>/user</c> on every node.</summary>
    public const string ActorName = "ring";

    private readonly RingEndpoints endpoints = new();
    private readonly TaskCompletionSource joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource left = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RingNode? node;

    public string Name => "ring";

    /// <summary>Completes when this node's join of its zone ring is complete.</summary>
    public Task Joined => joined.Task;

    internal RingNode Node => Volatile.Read(ref node) ?? throw new InvalidOperationException("The ring module has not started.");

    internal RingEndpoints Endpoints => endpoints;

    public void RegisterSerializers(SerializerRegistry registry)
    {
        RingSerializers.Register(registry, endpoints);
        RingTraceSerializers.Register(registry);
    }

    public void RegisterPalettes(PaletteRegistry palettes) => RingPalette.Register(palettes, this);

    public async Task StartAsync(NodeContext context, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = RingModuleSettings.FromConfig(context.Config, context.Settings.Name);
        var system = context.System;
        var logger = context.LoggerFactory.CreateLogger<RingModule>();
        var selfEndpoint = new Endpoint(system.Address.Host!, system.Address.Port);
        var self = new NodeHandle(settings.NodeId, endpoints.Add(selfEndpoint.ToString()));
        var bootstrap = await ChooseBootstrapAsync(context, selfEndpoint, settings.SeedWait, cancellation).ConfigureAwait(false);
        var links = new TcpRingLinks(system, endpoints);
        var start = new RingMembershipStart(self, settings.Zone, settings.Ring, bootstrap is { } seed ? endpoints.Add(seed.ToString()) : null, IsGateway: false, GlobalBootstrap: null)
        {
            Planner = settings.Planning.CreateHopPlanner(self.Id),
        };
        var events = system.ActorOf(Props.Create(() => new RingEventsActor(joined, left)), "ring-events");
        var application = new RingTraceApplication(system, self.Id, selfEndpoint.ToString(), logger);
        var ring = system.ActorOf(RingMembershipActor.Props(start, links, application, [events]), ActorName);
        events.Tell(new WatchRing(ring));
        var trace = system.ActorOf(Props.Create(() => new RingTraceActor(ring, selfEndpoint.ToString(), RingId.Zone(settings.Zone), settings.RouteTimeout)), RingTraceActor.Name);
        Volatile.Write(ref node, new RingNode(system, ring, trace, self, settings, logger));
        RingModuleLog.Started(logger, self.Id.ToString(), settings.Zone, bootstrap?.ToString() ?? "none (creates the ring)");
    }

    /// <summary>
    /// Sends the leave notices (the ring actor stops after them), then asks each leaf's trace actor for a
    /// <see cref="RingFlushed"/>: the transport drops what is still queued when the node closes it, and the control
    /// lane keeps order per peer, so an answer means that leaf has its notice.
    /// </summary>
    public async Task LeaveAsync(CancellationToken cancellation)
    {
        if (Volatile.Read(ref node) is not { } running || left.Task.IsCompleted)
        {
            return;
        }

        var snapshot = await running.Ring.Ask<RingStateSnapshot>(GetRingState.Instance, running.Settings.RouteTimeout, running.System).WaitAsync(cancellation).ConfigureAwait(false);
        var leaves = snapshot.State.ZoneRing.Leaves.Members().Select(p => endpoints.EndpointOf(p.Address)).OfType<string>().ToArray();
        running.Ring.Tell(LeaveRing.Instance);
        await left.Task.WaitAsync(cancellation).ConfigureAwait(false);
        var confirmed = await Task.WhenAll(leaves.Select(leaf => ConfirmAsync(running, leaf))).WaitAsync(cancellation).ConfigureAwait(false);
        RingModuleLog.Left(running.Logger, confirmed.Count(c => c), leaves.Length);
    }

    private static async Task<bool> ConfirmAsync(RingNode running, string leaf)
    {
        var peer = Endpoint.Parse(leaf);
        var trace = running.System.Resolve(new ActorPath(new Address(running.System.Address.System, peer.Host, peer.Port), "/user/" + RingTraceActor.Name));
        try
        {
            await trace.Ask<RingFlushed>(RingFlush.Instance, running.Settings.RouteTimeout, running.System).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            // That leaf is gone or too slow; it learns of the departure from its failure detector instead.
            return false;
        }
    }

    /// <summary>
    /// The first seed (in configured order, other than this node) that membership sees up within
    /// <paramref name="wait"/>; when none answers, null for a seed or a node without seeds (it creates the ring),
    /// else the first seed (the ring retries the join until it answers).
    /// </summary>
    private static async Task<Endpoint?> ChooseBootstrapAsync(NodeContext context, Endpoint self, TimeSpan wait, CancellationToken cancellation)
    {
        var seeds = context.Settings.SeedNodes.Where(s => s != self).ToImmutableArray();
        if (seeds.IsEmpty)
        {
            return null;
        }

        Endpoint? FirstUp(MembershipView view) =>
            seeds.Cast<Endpoint?>().FirstOrDefault(s => view.Members.TryGetValue(s!.Value, out var member) && member.Status == MemberStatus.Up);

        var found = new TaskCompletionSource<Endpoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = context.System.ActorOf(Props.Create(() => new SeedWatcher(context.Membership, view => FirstUp(view), found)));
        try
        {
            return await found.Task.WaitAsync(wait, context.System.Time, cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var isSeed = context.Settings.SeedNodes.Contains(self);
            return isSeed ? null : seeds[0];
        }
        finally
        {
            context.System.Stop(watcher);
        }
    }
}

/// <summary>What a started ring module runs: the ring actor, the route-trace actor, and this node's handle.</summary>
internal sealed record RingNode(ActorSystem System, IActorRef Ring, IActorRef Trace, NodeHandle Self, RingModuleSettings Settings, ILogger Logger);

/// <summary>Ring messages over the node's TCP transport: the ring actor at the endpoint the book holds for a handle.</summary>
internal sealed class TcpRingLinks(ActorSystem system, RingEndpoints endpoints) : IRingLinks
{
    private readonly Dictionary<int, IActorRef> refs = [];

    public bool ReportsFailedHops => false;

    public void Send(RingAddress from, RingAddress to, object message, IActorRef sender)
    {
        if (!refs.TryGetValue(to.Value, out var target))
        {
            // Every handle from the wire comes with its endpoint (the serializer learns both), so a handle without
            // one is not reachable: the message is lost as on the network, and a routed hop's missing ack lets the
            // core repair around it.
            if (endpoints.EndpointOf(to) is not { } endpoint)
            {
                return;
            }

            var peer = Endpoint.Parse(endpoint);
            target = system.Resolve(new ActorPath(new Address(system.Address.System, peer.Host, peer.Port), "/user/" + RingModule.ActorName));
            refs[to.Value] = target;
        }

        target.Tell(message, sender);
    }
}

internal sealed record WatchRing(IActorRef Ring) : ILocalMessage;

/// <summary>Completes the module's signals: joined on <see cref="RingJoined"/>, left when the ring actor stops.</summary>
internal sealed class RingEventsActor : ReceiveActor
{
    public RingEventsActor(TaskCompletionSource joined, TaskCompletionSource left)
    {
        Receive<WatchRing>(watch => Context.Watch(watch.Ring));
        Receive<RingJoined>(_ => joined.TrySetResult());
        Receive<Terminated>(_ => left.TrySetResult());
        // The ring actor logs these itself; the module has no state to repair yet.
        Receive<RingPeerFailed>(_ => { });
        Receive<RingRouteAbandoned>(_ => { });
    }
}

/// <summary>Follows membership views until <c>pick</c> finds a seed that is up.</summary>
internal sealed class SeedWatcher : ReceiveActor
{
    private readonly IActorRef membership;

    public SeedWatcher(IActorRef membership, Func<MembershipView, Endpoint?> pick, TaskCompletionSource<Endpoint> found)
    {
        this.membership = membership;
        Receive<MembershipView>(view =>
        {
            if (pick(view) is { } seed)
            {
                found.TrySetResult(seed);
            }
        });
    }

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe<MembershipView>(Self);
        membership.Tell(GetMembers.Instance, Self);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}

internal static partial class RingModuleLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Ring node {NodeId} in zone {Zone} started; bootstrap {Bootstrap}")]
    public static partial void Started(ILogger logger, string nodeId, int zone, string bootstrap);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Left the ring; {Confirmed} of {Leaves} leaves confirmed the leave notice")]
    public static partial void Left(ILogger logger, int confirmed, int leaves);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Ring payload {Type} reached this node but no application handles it; dropped")]
    public static partial void Unclaimed(ILogger logger, string type);
}
