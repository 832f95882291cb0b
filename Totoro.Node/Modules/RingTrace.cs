using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Node.Wire;
using Endpoint = Totoro.Transport.Tcp.NodeAddress;

namespace Totoro.Node.Modules;

/// <summary>The payload of a <c>ring route</c> probe: each node it passes appends its endpoint to <see cref="Path"/>.</summary>
internal sealed record RingTrace(long Probe, string Origin, ImmutableArray<string> Path);

/// <summary>The destination's answer to the origin's <see cref="RingTraceActor"/>.</summary>
internal sealed record RingTraceResult(long Probe, string Key, string DestinationId, string Destination, int Hops, ImmutableArray<string> Path);

/// <summary>Asks the local <see cref="RingTraceActor"/> to route a probe toward <see cref="Key"/>; answered with a <see cref="RingTraceResult"/>.</summary>
internal sealed record TraceRoute(NodeId Key) : ILocalMessage;

internal sealed record TraceExpired(long Probe) : ILocalMessage;

/// <summary>Sent by a leaving node to each leaf's trace actor after its leave notices; answered with <see cref="RingFlushed"/>.</summary>
internal sealed record RingFlush
{
    public static RingFlush Instance { get; } = new();
}

internal sealed record RingFlushed
{
    public static RingFlushed Instance { get; } = new();
}

internal static class RingTraceSerializers
{
    public static void Register(SerializerRegistry registry)
    {
        registry.Register<RingTrace, RingTraceWire>(
            "node.ring-trace.v1",
            t => new RingTraceWire { Probe = t.Probe, Origin = t.Origin, Path = { t.Path } },
            w => new RingTrace(w.Probe, w.Origin, [.. w.Path]));
        registry.Register<RingTraceResult, RingTraceResultWire>(
            "node.ring-trace-result.v1",
            r => new RingTraceResultWire { Probe = r.Probe, Key = r.Key, DestinationId = r.DestinationId, Destination = r.Destination, Hops = r.Hops, Path = { r.Path } },
            w => new RingTraceResult(w.Probe, w.Key, w.DestinationId, w.Destination, w.Hops, [.. w.Path]));
        registry.Register<RingFlush, RingFlushWire>("node.ring-flush.v1", _ => new RingFlushWire(), _ => RingFlush.Instance);
        registry.Register<RingFlushed, RingFlushWire>("node.ring-flushed.v1", _ => new RingFlushWire(), _ => RingFlushed.Instance);
    }
}

/// <summary>
/// The node's route application: appends this node to a passing <see cref="RingTrace"/>, and at the destination
/// answers the origin's trace actor. Payloads of other types have no application on this node yet: logged and dropped.
/// </summary>
internal sealed class RingTraceApplication(ActorSystem system, NodeId selfId, string selfEndpoint, ILogger logger) : IRouteApplication
{
    public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop) =>
        context.Payload is RingTrace trace
            ? ForwardVerdict.Replace(trace with { Path = trace.Path.Add(selfEndpoint) })
            : ForwardVerdict.Continue;

    public void Deliver(RouteContext context)
    {
        if (context.Payload is not RingTrace trace)
        {
            RingModuleLog.Unclaimed(logger, context.Payload.GetType().Name);
            return;
        }

        var origin = Endpoint.Parse(trace.Origin);
        var path = trace.Path.Length > 0 && trace.Path[^1] == selfEndpoint ? trace.Path : trace.Path.Add(selfEndpoint);
        var self = system.Resolve(new ActorPath(system.Address, "/user/" + RingTraceActor.Name));
        system.Resolve(new ActorPath(new Address(system.Address.System, origin.Host, origin.Port), "/user/" + RingTraceActor.Name))
            .Tell(new RingTraceResult(trace.Probe, context.Key.ToString(), selfId.ToString(), selfEndpoint, context.Hops, path), self);
    }
}

/// <summary>
/// Starts <c>ring route</c> probes from this node and matches the destinations' answers to the waiting callers.
/// A probe that gets no answer within the route timeout is forgotten; the caller's ask times out with it. Also
/// answers a leaving peer's <see cref="RingFlush"/>.
/// </summary>
internal sealed class RingTraceActor : ReceiveActor
{
    public const string Name = "ring-trace";

    private readonly Dictionary<long, IActorRef> pending = [];
    private long nextProbe;

    public RingTraceActor(IActorRef ring, string selfEndpoint, RingId zone, TimeSpan timeout)
    {
        Receive<TraceRoute>(route =>
        {
            if (Sender is not { } caller)
            {
                return;
            }

            var probe = ++nextProbe;
            pending[probe] = caller;
            Timers.StartSingleTimer(new TraceExpired(probe), new TraceExpired(probe), timeout);
            ring.Tell(new RouteRequest(route.Key, zone, new RingTrace(probe, selfEndpoint, [selfEndpoint])), Self);
        });
        Receive<RingTraceResult>(result =>
        {
            if (pending.Remove(result.Probe, out var caller))
            {
                Timers.Cancel(new TraceExpired(result.Probe));
                caller.Tell(result, Self);
            }
        });
        Receive<TraceExpired>(expired => pending.Remove(expired.Probe));
        Receive<RingFlush>(_ => Sender?.Tell(RingFlushed.Instance, Self));
    }
}
