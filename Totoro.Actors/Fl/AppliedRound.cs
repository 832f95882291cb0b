using System.Collections.Immutable;
using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>
/// A round whose aggregate the root applied and whose evaluation is pending: its model and optimizer state (for the
/// replica once it is evaluated) and everything its <see cref="RoundReport"/> needs besides the accuracy, taken when
/// it was applied — overlapped, the coordinator has moved on to the next round by the time the evaluation is in.
/// </summary>
internal sealed record AppliedRound(
    GlobalModel Model, ServerOptimizerState Optimizer, int Participants, double TrainLoss, ImmutableArray<int> Invited, int StaleDropped, int DuplicatesDropped,
    RoundCounters Counters)
{
    /// <summary>Round <paramref name="state"/>.Round, just applied: <paramref name="result"/> is the rule's (null when nothing arrived).</summary>
    public static AppliedRound Of(CoordinatorState state, GlobalModel model, ServerOptimizerState optimizer, AggregationResult? result, RoundCounters counters) => new(
        model,
        optimizer,
        result is { Succeeded: true } ? result.ContributorCount : 0,
        result is { Succeeded: true, TotalWeight: > 0 } && result.MetricSums.TryGetValue("loss_sum", out var lossSum) ? lossSum / result.TotalWeight : double.NaN,
        state.Invited,
        state.StaleDropped,
        state.DuplicatesDropped,
        counters);

    /// <summary>
    /// The round's report. <paramref name="current"/> is the coordinator's state before the evaluation: while it is
    /// still this round (inline), drops that came in during the evaluation count for it too.
    /// </summary>
    public RoundReport Report(string app, EvaluateDone done, CoordinatorState current, TimeSpan virtualTime)
    {
        var (stale, duplicates) = current.Round == done.Round ? (current.StaleDropped, current.DuplicatesDropped) : (StaleDropped, DuplicatesDropped);
        return new RoundReport(
            app, done.Round, done.Accuracy, done.Loss, TrainLoss, Participants, Invited, stale + Counters.StaleDropped, duplicates + Counters.DuplicatesDropped,
            Counters.BytesUp, Counters.BytesDown, virtualTime, TimeSpan.Zero);
    }
}
