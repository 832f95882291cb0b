using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>What a ring handler asks its shell to do. The shell performs effects in order.</summary>
internal abstract record RingEffect;

/// <summary>Send <paramref name="Message"/> to the node at <paramref name="To"/>.</summary>
internal sealed record Send(NodeAddress To, RingMessage Message) : RingEffect;

/// <summary>Deliver <paramref name="Timer"/> to this node after <paramref name="Delay"/>; replaces a pending timer with an equal message.</summary>
internal sealed record ScheduleTimer(RingMessage Timer, TimeSpan Delay) : RingEffect;

/// <summary>Drop the pending timer whose message equals <paramref name="Timer"/>.</summary>
internal sealed record CancelTimer(RingMessage Timer) : RingEffect;

/// <summary>This node is the destination: the shell calls <see cref="IRouteApplication.Deliver"/>.</summary>
internal sealed record Deliver(RouteContext Context) : RingEffect;

/// <summary>The join finished: the node routes and answers from now on.</summary>
internal sealed record JoinCompleted(NodeHandle Self) : RingEffect;

/// <summary>A peer was declared dead (detector or failed delivery); upper layers repair their own state.</summary>
internal sealed record PeerFailed(NodeHandle Peer) : RingEffect;

/// <summary>A routed message was dropped: hop limit exceeded, node not ready, or no ring to continue on.</summary>
internal sealed record RouteAbandoned(NodeId Key, object Payload, int Hops, string Reason) : RingEffect;

/// <summary>A handler's result: the new state and the effects to perform.</summary>
internal readonly record struct RingStep<TState>(TState State, ImmutableArray<RingEffect> Effects);
