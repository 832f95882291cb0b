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
/// duplicate messages are dropped and counted per round. With <see cref="EvaluationMode.Overlapped"/> the next round
/// may open while earlier rounds' evaluations are pending (<see cref="PendingEvaluations"/>), unless the target is
/// in sight (<see cref="TargetInSight"/>); an evaluation that ends
/// the app makes <see cref="Round"/> the evaluated round, and the round that was in flight is the caller's to cancel.
/// Immutable; each transition returns the new state.
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
    double LastAccuracy,
    EvaluationMode Evaluation,
    ImmutableSortedSet<long> PendingEvaluations,
    double PreviousAccuracy)
{
    public static CoordinatorState Create(AppSpec spec, int workerCount, int cooldownRounds, EvaluationMode evaluation = EvaluationMode.Inline) => new(
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
        double.NaN,
        evaluation,
        [],
        double.NaN);

    public bool IsDone => Phase == RoundPhase.Done;

    /// <summary>The round whose workers or tree may still be busy (collecting or aggregating); null when none is.</summary>
    public long? InFlight => Phase is RoundPhase.Collecting or RoundPhase.Aggregating ? Round : null;

    /// <summary>
    /// The next round may open: inline, once this round is evaluated; overlapped, once its aggregate is applied — unless
    /// the target is in sight (<see cref="TargetInSight"/>), when it waits for the evaluation as inline does — and the
    /// budget allows another round.
    /// </summary>
    public bool ReadyForNextRound =>
        Phase == RoundPhase.Evaluating && Round < Spec.Rounds
        && (PendingEvaluations.IsEmpty || (Evaluation == EvaluationMode.Overlapped && !TargetInSight));

    /// <summary>
    /// The latest evaluated accuracy plus its latest gain (none when negative or unknown) reaches the target: the round
    /// just applied may well end the app, and a round opened before its evaluation would then be cancelled, its model
    /// already sent down the tree for nothing (on the links and devices other apps share).
    /// </summary>
    public bool TargetInSight =>
        Spec.TargetAccuracy is { } target && !double.IsNaN(LastAccuracy)
        && LastAccuracy + (double.IsNaN(PreviousAccuracy) ? 0 : Math.Max(0, LastAccuracy - PreviousAccuracy)) >= target;

    /// <summary>Opens round 1 (from idle) or the next round; the invitees are in <see cref="Invited"/>.</summary>
    public CoordinatorState StartNextRound()
    {
        if (Phase is not (RoundPhase.Idle or RoundPhase.Evaluating) || Round >= Spec.Rounds)
        {
            throw new InvalidOperationException($"round {Round + 1} cannot open: round {Round} of {Spec.Rounds} is {Phase}");
        }

        var round = Round + 1;
        var invited = Selector.Select(Spec.Seed, Spec.SeedingName, round, Spec.ClientsPerRound, Spec.OverSelection);
        return this with
        {
            Round = round, Phase = RoundPhase.Collecting, Invited = invited, Admitted = [], Declined = [], StaleDropped = 0, DuplicatesDropped = 0,
        };
    }

    /// <summary>Invitees admitted so far (all of them without over-selection: <see cref="AppSpec.AdmissionImplied"/>).</summary>
    public int AdmittedCount => Spec.AdmissionImplied ? Invited.Length : Admitted.Count;

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

    /// <summary>The round's aggregate is applied: its model awaits evaluation.</summary>
    public CoordinatorState Aggregated() =>
        Phase == RoundPhase.Aggregating ? this with { Phase = RoundPhase.Evaluating, PendingEvaluations = PendingEvaluations.Add(Round) } : this;

    /// <summary>
    /// The evaluation of round <paramref name="round"/>'s model decides: done (target reached, or the budget's last
    /// round) or another round. False when no evaluation of that round is pending (stale).
    /// </summary>
    public (CoordinatorState State, bool Accepted) Evaluated(long round, double accuracy)
    {
        if (IsDone || !PendingEvaluations.Contains(round))
        {
            return (this, false);
        }

        var outcome = Spec.TargetAccuracy is { } target && accuracy >= target ? AppOutcome.TargetReached
            : round >= Spec.Rounds ? AppOutcome.BudgetExhausted
            : AppOutcome.Running;
        var state = this with { LastAccuracy = accuracy, PreviousAccuracy = LastAccuracy, PendingEvaluations = PendingEvaluations.Remove(round) };
        return (outcome == AppOutcome.Running ? state : state with { Round = round, Phase = RoundPhase.Done, Outcome = outcome }, true);
    }

    public CoordinatorState Cancelled() => IsDone ? this : this with { Phase = RoundPhase.Done, Outcome = AppOutcome.Cancelled };

    public CoordinatorState Failed() => this with { Phase = RoundPhase.Done, Outcome = AppOutcome.Failed };
}
