using System.Collections.Immutable;

namespace Totoro.Actors.Fl;

/// <summary>Where the coordinator is within a round.</summary>
internal enum RoundPhase
{
    Idle,
    Collecting,
    Aggregating,
    Evaluating,
    Done,
}

/// <summary>How an app ended.</summary>
public enum AppOutcome
{
    Running,
    TargetReached,
    BudgetExhausted,
    Cancelled,
    Failed,
}

/// <summary>
/// The root's round machine: idle → collecting (until the subtree result or the deadline) → aggregating →
/// evaluating → next round, or done (target reached, round budget spent, cancelled). Admission keeps exactly the
/// first K ready workers of the over-selected invitees. Stale (another round, or after the round closed) and
/// duplicate messages are dropped and counted per round. Immutable; each transition returns the new state.
/// </summary>
internal sealed record CoordinatorState(
    AppSpec Spec,
    long Round,
    RoundPhase Phase,
    SelectorState Selector,
    ImmutableArray<int> Invited,
    ImmutableHashSet<int> Admitted,
    ImmutableHashSet<int> Declined,
    int StaleDropped,
    int DuplicatesDropped,
    AppOutcome Outcome,
    double LastAccuracy)
{
    public static CoordinatorState Create(AppSpec spec, int workerCount, int cooldownRounds) => new(
        spec,
        0,
        RoundPhase.Idle,
        SelectorState.Create(workerCount, cooldownRounds),
        [],
        [],
        [],
        0,
        0,
        AppOutcome.Running,
        double.NaN);

    public bool IsDone => Phase == RoundPhase.Done;

    /// <summary>Opens round 1 (from idle) or the next round; the invitees are in <see cref="Invited"/>.</summary>
    public CoordinatorState StartNextRound()
    {
        var round = Round + 1;
        var invited = Selector.Select(Spec.Seed, Spec.Name, round, Spec.ClientsPerRound, Spec.OverSelection);
        return this with
        {
            Round = round, Phase = RoundPhase.Collecting, Invited = invited, Admitted = [], Declined = [], StaleDropped = 0, DuplicatesDropped = 0,
        };
    }

    /// <summary>A worker finished training: admitted while fewer than K are, declined after. Null: dropped (stale or not invited).</summary>
    public (CoordinatorState State, bool? Admitted) OnReady(long round, int worker)
    {
        if (round != Round || Phase != RoundPhase.Collecting || !Invited.Contains(worker))
        {
            return (this with { StaleDropped = StaleDropped + 1 }, null);
        }

        if (Admitted.Contains(worker) || Declined.Contains(worker))
        {
            return (this with { DuplicatesDropped = DuplicatesDropped + 1 }, Admitted.Contains(worker));
        }

        return Admitted.Count < Spec.ClientsPerRound
            ? (this with { Admitted = Admitted.Add(worker) }, true)
            : (this with { Declined = Declined.Add(worker) }, false);
    }

    /// <summary>
    /// The round's collection ends (the subtree result arrived, or the deadline passed with <paramref name="contributors"/>
    /// empty). False when the message is stale. Invitees that neither contributed nor were declined sit out a while.
    /// </summary>
    public (CoordinatorState State, bool Accepted) CloseCollection(long round, IEnumerable<int> contributors)
    {
        if (round != Round || Phase != RoundPhase.Collecting)
        {
            return (this with { StaleDropped = StaleDropped + 1 }, false);
        }

        var delivered = contributors.ToImmutableHashSet();
        var missing = Invited.Where(w => !delivered.Contains(w) && !Declined.Contains(w));
        var selector = Selector.MarkDelivered(delivered).MarkMissing(missing, round);
        return (this with { Phase = RoundPhase.Aggregating, Selector = selector }, true);
    }

    /// <summary>Counts a message that belongs to another run of the app as stale.</summary>
    public CoordinatorState DropStale() => this with { StaleDropped = StaleDropped + 1 };

    public CoordinatorState Aggregated() => Phase == RoundPhase.Aggregating ? this with { Phase = RoundPhase.Evaluating } : this;

    /// <summary>The evaluation of the new global model decides: done or another round.</summary>
    public CoordinatorState Evaluated(double accuracy)
    {
        if (Phase != RoundPhase.Evaluating)
        {
            return this;
        }

        var outcome = Spec.TargetAccuracy is { } target && accuracy >= target ? AppOutcome.TargetReached
            : Round >= Spec.Rounds ? AppOutcome.BudgetExhausted
            : AppOutcome.Running;
        return outcome == AppOutcome.Running
            ? this with { LastAccuracy = accuracy }
            : this with { LastAccuracy = accuracy, Phase = RoundPhase.Done, Outcome = outcome };
    }

    public CoordinatorState Cancelled() => IsDone ? this : this with { Phase = RoundPhase.Done, Outcome = AppOutcome.Cancelled };

    public CoordinatorState Failed() => this with { Phase = RoundPhase.Done, Outcome = AppOutcome.Failed };
}
