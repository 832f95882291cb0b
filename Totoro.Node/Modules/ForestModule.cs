using Microsoft.Extensions.Logging;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Node.Hosting;
using Totoro.Node.Ops;
using Endpoint = Totoro.Transport.Tcp.NodeAddress;
using RingAddress = Totoro.Actors.Ring.NodeAddress;

namespace Totoro.Node.Modules;

/// <summary>
/// Layer 2 in a real node: the node's <see cref="ForestActor"/> beside the ring module's ring actor, over the TCP
/// transport, and the <c>tree</c> palette. Start it after the ring module (modules start in order): the forest
/// actor registers its upcalls with the ring actor. Handles on the forest's wire carry their endpoints into the ring's
/// address book, so a parent reaches a child it learned of from a routed subscribe. Its combiners are
/// the fold operations this node can run as an interior tree node (the FL layer's partial aggregates).
/// </summary>
public sealed class ForestModule : INodeModule
{
    /// <summary>The forest actor's name under <c>/user</c> on every node.</summary>
    public const string ActorName = "forest";

    private readonly RingModule ring;
    private readonly FoldCombiners _combiners;
    private ForestNode? _node;

    public ForestModule(RingModule ring)
        : this(ring, [])
    {
    }

    internal ForestModule(RingModule ring, IEnumerable<IFoldCombiner> combiners)
    {
        ArgumentNullException.ThrowIfNull(ring);
        this.ring = ring;
        _combiners = new FoldCombiners(combiners);
    }

    public string Name => "forest";

    internal ForestNode Node => Volatile.Read(ref _node) ?? throw new InvalidOperationException("The forest module has not started.");

    internal RingModule Ring => ring;

    public void RegisterSerializers(SerializerRegistry registry) => ForestSerializers.Register(registry, ring.Endpoints);

    public void RegisterPalettes(PaletteRegistry palettes) => TreePalette.Register(palettes, this);

    public Task StartAsync(NodeContext context, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = ForestModuleSettings.FromConfig(context.Config);
        var ringNode = ring.Node;
        var links = new TcpForestLinks(context.System, ring.Endpoints);
        var start = new ForestStart(ringNode.Self, ringNode.Settings.Zone, settings.Forest, _combiners, ringNode.Ring, links) { AckTimeout = settings.AckTimeout, PushDown = ringNode.Settings.Planning.CreatePushDownChooser(ringNode.Self.Id) };
        var forest = context.System.ActorOf(ForestActor.Props(start), ActorName);
        var log = context.System.ActorOf(Props.Create(() => new TopicLogActor()), "forest-topic-log");
        Volatile.Write(ref _node, new ForestNode(context.System, forest, log, ringNode.Self, settings));
        ForestModuleLog.Started(context.LoggerFactory.CreateLogger<ForestModule>(), settings.Forest.FanOutCap);
        return Task.CompletedTask;
    }

    /// <summary>The forest actor stops; parents drop this node when a send is not acknowledged, children re-subscribe when its heartbeats stop.</summary>
    public Task LeaveAsync(CancellationToken cancellation)
    {
        if (Volatile.Read(ref _node) is { } running)
        {
            running.System.Stop(running.Forest);
        }

        return Task.CompletedTask;
    }
}

/// <summary>What a started forest module runs.</summary>
internal sealed record ForestNode(ActorSystem System, IActorRef Forest, IActorRef TopicLog, NodeHandle Self, ForestModuleSettings Settings);

/// <summary>Forest messages over the node's TCP transport: the forest actor at the endpoint the ring's book holds for a handle.</summary>
internal sealed class TcpForestLinks(ActorSystem system, RingEndpoints endpoints) : IForestLinks
{
    private readonly Dictionary<int, IActorRef> refs = [];

    public bool ReportsUnreachable => false;

    public void Send(RingAddress from, RingAddress to, object message, IActorRef sender)
    {
        if (!refs.TryGetValue(to.Value, out var target))
        {
            // A handle without an endpoint is unreachable: the message is lost as on the network, and its missing
            // acknowledgement declares the peer dead.
            if (endpoints.EndpointOf(to) is not { } endpoint)
            {
                return;
            }

            var peer = Endpoint.Parse(endpoint);
            target = system.Resolve(new ActorPath(new Address(system.Address.System, peer.Host, peer.Port), "/user/" + ForestModule.ActorName));
            refs[to.Value] = target;
        }

        target.Tell(message, sender);
    }
}

/// <summary>Counts what the ops shell's <c>tree join</c> subscriptions deliver, per topic.</summary>
internal sealed class TopicLogActor : ReceiveActor
{
    private readonly Dictionary<TopicId, (long Count, long LastId)> delivered = [];

    public TopicLogActor()
    {
        Receive<ForestDelivery>(delivery => delivered[delivery.Topic] = (delivered.GetValueOrDefault(delivery.Topic).Count + 1, delivery.MessageId));
        Receive<ForestNotification>(_ => { });
        Receive<GetTopicLog>(_ => Sender?.Tell(new TopicLog(delivered.ToDictionary()), Self));
    }
}

internal sealed record GetTopicLog : ILocalMessage
{
    public static GetTopicLog Instance { get; } = new();
}

internal sealed record TopicLog(IReadOnlyDictionary<TopicId, (long Count, long LastId)> Delivered) : ILocalMessage;

internal static partial class ForestModuleLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Forest actor started beside the ring; fan-out cap {Cap}")]
    public static partial void Started(ILogger logger, int cap);
}
