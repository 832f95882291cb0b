using Totoro.Actors.Fl;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class CoordinatorStateTests
{
    private static readonly AppSpec Spec = TotoroApp.Define("app").Data("d").Rounds(3).ClientsPerRound(4).OverSelection(1.5).Target(0.9).Build();

    [Test]
    public void A_round_goes_collecting_aggregating_evaluating_then_next()
    {
        var state = CoordinatorState.Create(Spec, workerCount: 10, cooldownRounds: 2);
        Assert.That(state.Phase, Is.EqualTo(RoundPhase.Idle));

        state = state.StartNextRound();
        Assert.That((state.Round, state.Phase, state.Invited.Length), Is.EqualTo((1L, RoundPhase.Collecting, 6)));

        (state, var accepted) = state.CloseCollection(1, state.Invited.Take(4).ToArray());
        Assert.That((accepted, state.Phase), Is.EqualTo((true, RoundPhase.Aggregating)));
        state = Evaluate(state.Aggregated(), 0.5);
        Assert.That((state.Phase, state.Outcome), Is.EqualTo((RoundPhase.Evaluating, AppOutcome.Running)));
    }

    [Test]
    public void Admission_keeps_exactly_the_first_K_ready_workers()
    {
        var state = CoordinatorState.Create(Spec, 10, 2).StartNextRound();
        var answers = new List<bool?>();
        foreach (var worker in state.Invited)
        {
            (state, var admitted) = state.OnReady(1, worker);
            answers.Add(admitted);
        }

        Assert.That(answers, Is.EqualTo(new bool?[] { true, true, true, true, false, false }));
        Assert.That(state.Admitted, Is.EquivalentTo(state.Invited.Take(4)));
        Assert.That(state.AdmittedCount, Is.EqualTo(4));
    }

    [Test]
    public void Without_over_selection_every_invitee_counts_as_admitted_from_the_start()
    {
        var exact = Spec with { OverSelection = 1 };
        var state = CoordinatorState.Create(exact, 10, 2).StartNextRound();

        Assert.That((exact.AdmissionImplied, Spec.AdmissionImplied), Is.EqualTo((true, false)));
        Assert.That(state.Invited, Has.Length.EqualTo(4));
        Assert.That((state.AdmittedCount, state.Admitted.Count), Is.EqualTo((4, 0)));
    }

    [Test]
    public void Stale_and_duplicate_messages_are_dropped_and_counted()
    {
        var state = CoordinatorState.Create(Spec, 10, 2).StartNextRound();
        var worker = state.Invited[0];
        var outsider = Enumerable.Range(0, 10).First(w => !state.Invited.Contains(w));

        (state, var first) = state.OnReady(1, worker);
        (state, var again) = state.OnReady(1, worker);
        (state, var oldRound) = state.OnReady(0, worker);
        (state, var notInvited) = state.OnReady(1, outsider);
        (state, _) = state.CloseCollection(1, [worker]);
        (state, var late) = state.CloseCollection(1, [worker]);

        Assert.That((first, again, oldRound, notInvited, late), Is.EqualTo(((bool?)true, (bool?)true, (bool?)null, (bool?)null, false)));
        Assert.That((state.DuplicatesDropped, state.StaleDropped), Is.EqualTo((1, 3)));
    }

    [Test]
    public void Invitees_that_did_not_deliver_sit_out_the_next_rounds()
    {
        var state = CoordinatorState.Create(Spec with { OverSelection = 1.0 }, 4, 2).StartNextRound();
        (state, _) = state.CloseCollection(1, [0, 1, 2]);
        state = Evaluate(state.Aggregated(), 0.1).StartNextRound();

        Assert.That(state.Invited, Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void The_app_ends_on_target_or_budget_or_cancel()
    {
        static CoordinatorState Through(CoordinatorState s, double accuracy)
        {
            s = s.StartNextRound();
            (s, _) = s.CloseCollection(s.Round, []);
            return Evaluate(s.Aggregated(), accuracy);
        }

        var start = CoordinatorState.Create(Spec, 10, 2);
        var target = Through(start, 0.95);
        var budget = Through(Through(Through(start, 0.1), 0.2), 0.3);
        var cancelled = start.StartNextRound().Cancelled();

        Assert.That((target.Outcome, target.Round, target.IsDone), Is.EqualTo((AppOutcome.TargetReached, 1L, true)));
        Assert.That((budget.Outcome, budget.Round), Is.EqualTo((AppOutcome.BudgetExhausted, 3L)));
        Assert.That(cancelled.Outcome, Is.EqualTo(AppOutcome.Cancelled));
    }

    [Test]
    public void Overlapped_the_next_round_opens_once_the_aggregate_is_applied_and_reports_stay_in_round_order()
    {
        var state = CoordinatorState.Create(Spec, 10, 2, EvaluationMode.Overlapped).StartNextRound();
        (state, _) = state.CloseCollection(1, []);
        state = state.Aggregated();
        Assert.That(state.ReadyForNextRound, Is.True, "round 2 need not wait for round 1's evaluation");

        state = state.StartNextRound();
        (state, _) = state.CloseCollection(2, []);
        state = state.Aggregated();
        Assert.That(state.PendingEvaluations, Is.EqualTo(new[] { 1L, 2L }));

        (state, var stale) = state.Evaluated(7, 0.1);
        (state, var first) = state.Evaluated(1, 0.2);
        Assert.That((stale, first, state.Round, state.Phase, state.LastAccuracy), Is.EqualTo((false, true, 2L, RoundPhase.Evaluating, 0.2)));
        Assert.That(state.ReadyForNextRound, Is.True);
    }

    [Test]
    public void Overlapped_a_target_reached_by_an_earlier_round_ends_the_app_at_that_round_with_the_next_in_flight()
    {
        var state = CoordinatorState.Create(Spec, 10, 2, EvaluationMode.Overlapped).StartNextRound();
        (state, _) = state.CloseCollection(1, []);
        state = state.Aggregated().StartNextRound();
        Assert.That(state.InFlight, Is.EqualTo(2L));

        (state, var accepted) = state.Evaluated(1, 0.95);

        Assert.That((accepted, state.Outcome, state.Round, state.IsDone, state.InFlight), Is.EqualTo((true, AppOutcome.TargetReached, 1L, true, (long?)null)));
    }

    [Test]
    public void Overlapped_no_round_opens_past_the_budget_and_the_last_evaluation_ends_it()
    {
        var state = CoordinatorState.Create(Spec, 10, 2, EvaluationMode.Overlapped);
        for (var round = 1; round <= 3; round++)
        {
            state = state.StartNextRound();
            (state, _) = state.CloseCollection(round, []);
            state = state.Aggregated();
        }

        Assert.That(state.ReadyForNextRound, Is.False);
        Assert.That(() => state.StartNextRound(), Throws.InvalidOperationException);
        (state, _) = state.Evaluated(1, 0.1);
        (state, _) = state.Evaluated(2, 0.2);
        Assert.That(state.IsDone, Is.False);
        (state, _) = state.Evaluated(3, 0.3);
        Assert.That((state.Outcome, state.Round), Is.EqualTo((AppOutcome.BudgetExhausted, 3L)));
    }

    [Test]
    public void Overlapped_waits_for_the_evaluation_when_the_target_is_in_sight()
    {
        var state = CoordinatorState.Create(Spec with { Rounds = 6 }, 10, 2, EvaluationMode.Overlapped);
        var accuracies = new[] { 0.6, 0.8, 0.86 };
        var speculated = new List<bool>();
        for (var round = 1; round <= 3; round++)
        {
            state = state.StartNextRound();
            (state, _) = state.CloseCollection(round, []);
            state = state.Aggregated();
            speculated.Add(state.ReadyForNextRound);
            (state, _) = state.Evaluated(round, accuracies[round - 1]);
        }

        // Before round 3 is evaluated: 0.8 + (0.8 - 0.6) ≥ 0.9, so round 4 waits; 0.86 misses the target, so it may open then.
        Assert.That(speculated, Is.EqualTo(new[] { true, true, false }));
        Assert.That((state.TargetInSight, state.ReadyForNextRound), Is.EqualTo((true, true)));
    }

    [Test]
    public void Inline_the_next_round_waits_for_the_evaluation()
    {
        var state = CoordinatorState.Create(Spec, 10, 2, EvaluationMode.Inline).StartNextRound();
        (state, _) = state.CloseCollection(1, []);
        state = state.Aggregated();
        Assert.That(state.ReadyForNextRound, Is.False);

        state = Evaluate(state, 0.5);
        Assert.That(state.ReadyForNextRound, Is.True);
    }

    private static CoordinatorState Evaluate(CoordinatorState state, double accuracy) => state.Evaluated(state.Round, accuracy).State;
}
