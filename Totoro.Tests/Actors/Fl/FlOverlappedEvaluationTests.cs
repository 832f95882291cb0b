using Totoro.Actors.Fl;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

/// <summary>
/// <see cref="EvaluationMode.Overlapped"/>: the next round opens when the aggregate is applied and the evaluation runs
/// meanwhile on the root's compute queue; an evaluation that ends the app cancels the round in flight.
/// </summary>
[TestFixture]
public sealed class FlOverlappedEvaluationTests
{
    private static readonly FlSettings Overlapped = FlSettings.Default with { Evaluation = EvaluationMode.Overlapped };

    private static readonly FlSettings Inline = FlSettings.Default with { Evaluation = EvaluationMode.Inline };

    [Test]
    public void Round_two_opens_before_round_one_is_evaluated_and_every_report_arrives_in_round_order()
    {
        var run = Run(Overlapped, FlTestBed.App("app").Rounds(4).ClientsPerRound(4).OverSelection(1).Build());

        var roundTwoOpened = run.Starts.Where(s => s.Round == 2).Min(s => s.At);
        Assert.That(roundTwoOpened, Is.LessThan(run.SubmittedAt + run.Reports[0].VirtualTime), "round 2's RoundStart reached a worker before round 1's report");
        Assert.That(run.Reports.Select(r => r.Round), Is.EqualTo(new[] { 1L, 2L, 3L, 4L }));
        Assert.That(run.Reports.Select(r => r.VirtualTime), Is.Ordered.Ascending);
        Assert.That((run.Result.Outcome, run.Result.Rounds), Is.EqualTo((AppOutcome.BudgetExhausted, 4L)));
        Assert.That(run.Cancels, Is.Empty, "the budget's last round opens nothing more, so nothing is cancelled");
    }

    [Test]
    public void Overlapped_trains_the_same_models_as_inline_in_less_time()
    {
        var spec = FlTestBed.App("app").Rounds(4).ClientsPerRound(4).OverSelection(1).Build();

        var inline = Run(Inline, spec);
        var overlapped = Run(Overlapped, spec);

        Assert.That(overlapped.Reports.Select(r => (r.Round, r.Accuracy, r.Loss, r.Participants)), Is.EqualTo(inline.Reports.Select(r => (r.Round, r.Accuracy, r.Loss, r.Participants))));
        Assert.That(overlapped.Reports.Select(r => r.Invited), Is.EqualTo(inline.Reports.Select(r => r.Invited)));
        Assert.That(inline.Starts.Where(s => s.Round == 2).Min(s => s.At), Is.GreaterThanOrEqualTo(inline.SubmittedAt + inline.Reports[0].VirtualTime), "inline: round 2 waits for round 1's evaluation");
        Assert.That(overlapped.Result.VirtualTime, Is.LessThan(inline.Result.VirtualTime));
    }

    [Test]
    public void A_target_reached_at_round_r_cancels_round_r_plus_1_which_is_never_reported()
    {
        var probe = Run(Inline, FlTestBed.App("app").Rounds(6).ClientsPerRound(4).OverSelection(1).Build());
        // The accuracy round 2 reaches (or the best so far): an inline run with this target ends at the round k that first reaches it.
        var target = probe.Reports.Take(2).Max(r => r.Accuracy);
        var spec = FlTestBed.App("app").Rounds(6).ClientsPerRound(4).OverSelection(1).Target(target).Build();
        var inline = Run(Inline, spec);
        var k = inline.Result.Rounds;
        Assert.That((inline.Result.Outcome, k), Is.EqualTo((AppOutcome.TargetReached, inline.Reports.First(r => r.Accuracy >= target).Round)));

        var overlapped = Run(Overlapped, spec);

        Assert.That((overlapped.Result.Outcome, overlapped.Result.Rounds, overlapped.Result.FinalAccuracy), Is.EqualTo((AppOutcome.TargetReached, k, inline.Result.FinalAccuracy)));
        Assert.That(overlapped.Reports.Select(r => r.Round), Is.EqualTo(Enumerable.Range(1, (int)k).Select(r => (long)r)), "no report for the cancelled round");
        Assert.That(overlapped.Result.VirtualTime, Is.EqualTo(overlapped.Reports[^1].VirtualTime), "time-to-target: round k's evaluation");
        Assert.That(overlapped.Starts.Where(s => s.Round == k + 1).Select(s => s.To).Distinct().ToArray(), Has.Length.EqualTo(4), "round k+1 was out at its four workers");
        Assert.That(overlapped.Cancels.Where(c => c.Round == k + 1).Select(c => c.To).Distinct(), Is.EquivalentTo(overlapped.Starts.Where(s => s.Round == k + 1).Select(s => s.To).Distinct()));
        Assert.That(overlapped.Readies, Is.Empty, "no extras invited (over-selection 1): workers never ask for admission");
        Assert.That(overlapped.Results.Where(r => r.Round == k + 1), Is.Empty, "nothing of round k+1 went up the tree");
    }

    /// <summary>A star of five nodes (root 0) whose devices take seconds per job, so evaluation and training show in virtual time.</summary>
    private static Observed Run(FlSettings settings, AppSpec spec)
    {
        var nodes = FlTestBed.Addresses(5);
        var bed = FlTestBed.Create(5, seed: 41, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: _ => 1e5, settings: settings);
        var observed = new Observed { SubmittedAt = bed.Scenario.World.Elapsed };
        bed.Scenario.Transport.OnDelivered += delivery =>
        {
            var envelope = delivery.Envelope;
            if (envelope.Manifest is not ("fl.round-start.v2" or "fl.round-cancel.v1" or "fl.update-ready.v1" or "fl.subtree-result.v1"))
            {
                return;
            }

            switch (FlTestBed.Registry.Deserialize(envelope.Manifest, envelope.Payload.Span, bed.Scenario[0]))
            {
                case RoundStart start:
                    observed.Starts.Add((delivery.At, delivery.To, start.Round));
                    break;
                case RoundCancel cancel:
                    observed.Cancels.Add((delivery.To, cancel.Round));
                    break;
                case UpdateReady ready:
                    observed.Readies.Add((delivery.From, ready.Round));
                    break;
                case SubtreeResult result:
                    observed.Results.Add((delivery.From, result.Round));
                    break;
            }
        };
        var handle = bed.Submit(0, spec);
        observed.Result = bed.Run(handle);
        observed.Reports = FlTestBed.Reports(handle);
        bed.Scenario.RunUntilIdle();
        return observed;
    }

    private sealed class Observed
    {
        public TimeSpan SubmittedAt { get; init; }

        public AppResult Result { get; set; } = null!;

        public IReadOnlyList<RoundReport> Reports { get; set; } = [];

        public List<(TimeSpan At, Address To, long Round)> Starts { get; } = [];

        public List<(Address To, long Round)> Cancels { get; } = [];

        public List<(Address From, long Round)> Readies { get; } = [];

        public List<(Address From, long Round)> Results { get; } = [];
    }
}
