using System.Collections.Immutable;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>Traffic and drop counts of a subtree for one round; they add up the tree.</summary>
internal sealed record RoundCounters(int StaleDropped, int DuplicatesDropped, long BytesDown, long BytesUp)
{
    public static RoundCounters Zero { get; } = new(0, 0, 0, 0);

    public RoundCounters Plus(RoundCounters other) => new(
        StaleDropped + other.StaleDropped,
        DuplicatesDropped + other.DuplicatesDropped,
        BytesDown + other.BytesDown,
        BytesUp + other.BytesUp);
}

/// <summary>What one tree node collects for (app, round): its children's results and its own worker's update.</summary>
internal enum Arrival
{
    Accepted,
    Stale,
    Duplicate,
}

/// <summary>
/// One tree node's collection for (app, round): which children and whether its own worker are still expected,
/// the partial aggregates (foldable rules) or raw updates (relayed for non-foldable rules) received so far, and
/// the counters. Complete when nothing is pending; the actor also closes it at the deadline. Immutable.
/// </summary>
internal sealed record SubtreeRound(
    long Round,
    ImmutableHashSet<Address> PendingChildren,
    bool OwnPending,
    bool Closed,
    ImmutableList<PartialAggregate> Parts,
    ImmutableList<ClientUpdate> Updates,
    ImmutableHashSet<ulong> Contributors,
    RoundCounters Counters)
{
    public static SubtreeRound Open(long round, IEnumerable<Address> children, bool ownWorkerInvited, long bytesDown) => new(
        round,
        children.ToImmutableHashSet(),
        ownWorkerInvited,
        false,
        [],
        [],
        [],
        RoundCounters.Zero with { BytesDown = bytesDown });

    public bool IsComplete => PendingChildren.IsEmpty && !OwnPending;

    public (SubtreeRound State, Arrival Arrival) OnChild(long round, Address child, PartialAggregate? folded, ImmutableArray<ClientUpdate> relayed, RoundCounters counters)
    {
        if (round != Round || Closed)
        {
            return (Count(Arrival.Stale), Arrival.Stale);
        }

        if (!PendingChildren.Contains(child))
        {
            return (Count(Arrival.Duplicate), Arrival.Duplicate);
        }

        var ids = (folded?.Contributors ?? []).Concat(relayed.Select(u => u.ContributorId)).ToArray();
        if (ids.Any(Contributors.Contains))
        {
            // A worker counted twice would double its weight: refuse the whole part.
            return (Count(Arrival.Duplicate) with { PendingChildren = PendingChildren.Remove(child) }, Arrival.Duplicate);
        }

        return (this with
        {
            PendingChildren = PendingChildren.Remove(child),
            Parts = folded is null ? Parts : Parts.Add(folded),
            Updates = Updates.AddRange(relayed),
            Contributors = Contributors.Union(ids),
            Counters = Counters.Plus(counters),
        }, Arrival.Accepted);
    }

    /// <summary>The co-located worker's update, or null when it was declined or had nothing to train on.</summary>
    public (SubtreeRound State, Arrival Arrival) OnOwn(long round, ClientUpdate? update)
    {
        if (round != Round || Closed)
        {
            return (Count(Arrival.Stale), Arrival.Stale);
        }

        if (!OwnPending || (update is not null && Contributors.Contains(update.ContributorId)))
        {
            return (Count(Arrival.Duplicate), Arrival.Duplicate);
        }

        return update is null
            ? (this with { OwnPending = false }, Arrival.Accepted)
            : (this with { OwnPending = false, Updates = Updates.Add(update), Contributors = Contributors.Add(update.ContributorId) }, Arrival.Accepted);
    }

    public SubtreeRound Close() => this with { Closed = true };

    /// <summary>Counts a message from another run of the app (an earlier submission) as stale.</summary>
    public SubtreeRound DropStale() => Count(Arrival.Stale);

    /// <summary>
    /// The one partial this node forwards for a foldable rule: its worker's update folded by the rule (clipping
    /// applies there) merged with the children's partials; null when nothing arrived.
    /// </summary>
    public PartialAggregate? Fold(IFoldableRule rule, ModelShape shape, AggregationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (Contributors.IsEmpty)
        {
            return null;
        }

        // Inputs in contributor order, not arrival order. The fixed-point fold (the default) is exact in any order and
        // grouping; the float fold's sums then round the same way however the network timed the round, so one tree
        // shape always yields the same bits.
        var accumulator = new UpdateAccumulator(shape, limits);
        var refused = rule.FoldBatch(accumulator, [.. Updates.OrderBy(u => u.ContributorId)]);
        if (refused.Count > 0)
        {
            throw new InvalidOperationException($"update of worker {refused[0].ContributorId} refused: {refused[0].Detail}");
        }

        var rejection = accumulator.MergeBatch([.. Parts.OrderBy(p => p.Contributors.IsEmpty ? ulong.MaxValue : p.Contributors[0])]);
        return rejection is null ? accumulator.ToPartial() : throw new InvalidOperationException($"partial refused: {rejection.Detail}");
    }

    private SubtreeRound Count(Arrival arrival) => arrival switch
    {
        Arrival.Stale => this with { Counters = Counters with { StaleDropped = Counters.StaleDropped + 1 } },
        _ => this with { Counters = Counters with { DuplicatesDropped = Counters.DuplicatesDropped + 1 } },
    };
}
