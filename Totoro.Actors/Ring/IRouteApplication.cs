using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>
/// One routed message as seen at a node. <paramref name="Sender"/> is the previous hop (null at the origin);
/// <paramref name="Hops"/> the overlay hops taken to get here; <paramref name="Segments"/> the hops per ring
/// segment for a cross-zone route (empty otherwise).
/// </summary>
internal readonly record struct RouteContext(NodeId Key, object Payload, NodeHandle? Sender, int Hops, ImmutableArray<int> Segments);

/// <summary>What an application decides when a routed message passes through this node.</summary>
internal abstract record ForwardVerdict
{
    public static ForwardVerdict Continue { get; } = new ContinueVerdict();

    public static ForwardVerdict Absorb { get; } = new AbsorbVerdict();

    public static ForwardVerdict Replace(object payload) => new ReplaceVerdict(payload);

    internal sealed record ContinueVerdict : ForwardVerdict;

    internal sealed record AbsorbVerdict : ForwardVerdict;

    internal sealed record ReplaceVerdict(object Payload) : ForwardVerdict;
}

/// <summary>
/// The upper layer's view of key-based routing (Pastry's common API; Scribe builds trees with it).
/// <see cref="Forward"/> is called by the ring core at every intermediate hop and must be a quick, deterministic
/// decision (no I/O); <see cref="Deliver"/> is called by the shell when it performs a <see cref="Ring.Deliver"/> effect.
/// </summary>
internal interface IRouteApplication
{
    ForwardVerdict Forward(RouteContext context, NodeHandle nextHop);

    void Deliver(RouteContext context);
}
