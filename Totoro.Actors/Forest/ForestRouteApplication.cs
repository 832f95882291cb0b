using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

/// <summary>
/// The forest as the ring's <see cref="IRouteApplication"/> for the handling of one ring message: the shell makes
/// one per message, passes it to the ring's <c>Handle</c>, then takes <see cref="State"/> and <see cref="Effects"/>
/// (and, for each <see cref="Ring.Deliver"/> effect, calls <see cref="Deliver"/> on it). The mutation is confined to
/// that one call; the decisions themselves are <see cref="ForestState.OnForward"/> and <see cref="ForestState.OnDeliver"/>.
/// </summary>
internal sealed class ForestRouteApplication(ForestState state, TimeSpan now) : IRouteApplication
{
    private readonly ImmutableArray<ForestEffect>.Builder effects = ImmutableArray.CreateBuilder<ForestEffect>();

    public ForestState State { get; private set; } = state;

    public ImmutableArray<ForestEffect> Effects => effects.ToImmutable();

    public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
    {
        var (step, verdict) = State.OnForward(context, now);
        Apply(step);
        return verdict;
    }

    public void Deliver(RouteContext context) => Apply(State.OnDeliver(context, now));

    private void Apply(ForestStep step)
    {
        State = step.State;
        effects.AddRange(step.Effects);
    }
}
