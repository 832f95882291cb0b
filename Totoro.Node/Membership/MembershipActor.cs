using Totoro.Kernel;
using Totoro.Node.Hosting;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Membership;

/// <summary>
/// Keeps this node's <see cref="MembershipView"/>: says hello to the seeds, answers hellos, learns peers from
/// answers, watches every peer's membership actor (its node going down is a Terminated), and retries hellos to
/// nodes not up on a timer. Lives at <c>/user/membership</c> on every node. Every new view is published on the
/// event stream (subscribe to <see cref="MembershipView"/>).
/// </summary>
internal sealed class MembershipActor : ReceiveActor
{
    public const string Name = "membership";

    private readonly string cluster;
    private readonly string nodeName;
    private readonly string zone;
    private readonly TimeSpan helloInterval;
    private MembershipView view;

    public MembershipActor(string cluster, string nodeName, string zone, TimeSpan helloInterval, MembershipView initial)
    {
        this.cluster = cluster;
        this.nodeName = nodeName;
        this.zone = zone;
        this.helloInterval = helloInterval;
        view = initial;
        Receive<Hello>(h => h.Cluster == cluster, OnHello);
        Receive<HelloAck>(a => a.Cluster == cluster, OnHelloAck);
        Receive<Hello>(h => MembershipLog.ForeignCluster(Log, h.Cluster, Sender?.Path.Address.ToString() ?? "?", cluster));
        Receive<HelloAck>(a => MembershipLog.ForeignCluster(Log, a.Cluster, Sender?.Path.Address.ToString() ?? "?", cluster));
        Receive<Terminated>(OnTerminated);
        Receive<RetryHellos>(_ => SayHello(view.ToContact));
        Receive<GetMembers>(_ => Sender?.Tell(view, Self));
    }

    protected override void PreStart()
    {
        SayHello(view.ToContact);
        Timers.StartPeriodicTimer(RetryHellos.Instance, RetryHellos.Instance, helloInterval);
    }

    private void OnHello(Hello hello)
    {
        if (Sender is not { } peer || EndpointOf(peer) is not { } node)
        {
            return;
        }
        peer.Tell(new HelloAck(cluster, nodeName, zone, KnownUp()), Self);
        Answered(peer, node, hello.Name, hello.Zone, hello.Known);
    }

    private void OnHelloAck(HelloAck ack)
    {
        if (Sender is { } peer && EndpointOf(peer) is { } node)
        {
            Answered(peer, node, ack.Name, ack.Zone, ack.Known);
        }
    }

    private void Answered(IActorRef peer, NodeAddress node, string name, string peerZone, IReadOnlyList<string> known)
    {
        var now = Context.Time.GetUtcNow();
        Context.Watch(peer);
        var reported = known.Select(k => NodeSettings.TryParseEndpoint(k, out var a) ? a : (NodeAddress?)null).OfType<NodeAddress>();
        var (learned, added) = view.Answered(node, name, peerZone, now).Learned(reported, now);
        Publish(learned);
        SayHello(added);
    }

    private void OnTerminated(Terminated terminated)
    {
        if (EndpointOf(terminated.ActorRef) is { } node)
        {
            Publish(view.Lost(node, Context.Time.GetUtcNow()));
        }
    }

    private void Publish(MembershipView next)
    {
        if (next != view)
        {
            view = next;
            Context.System.EventStream.Publish(view);
        }
    }

    private void SayHello(IEnumerable<NodeAddress> nodes)
    {
        var hello = new Hello(cluster, nodeName, zone, KnownUp());
        foreach (var node in nodes)
        {
            Context.System.Resolve(PathOf(Context.System.Name, node)).Tell(hello, Self);
        }
    }

    private string[] KnownUp() => [.. view.Up.Select(m => m.Address.ToString())];

    internal static string PathOf(string system, NodeAddress node) => $"{new Address(system, node.Host, node.Port)}/user/{Name}";

    private static NodeAddress? EndpointOf(IActorRef actor) =>
        actor.Path.Address is { Host: { } host, Port: > 0 } address ? new NodeAddress(host, address.Port) : null;
}
