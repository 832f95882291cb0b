using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Ml.Models;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class FlRoundScenarioTests
{
    [Test]
    public void Root_aggregate_equals_flat_FedAvg_over_the_participants()
    {
        var nodes = FlTestBed.Addresses(7);
        var bed = FlTestBed.Create(7, seed: 3, StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 2));
        var checkpoints = bed.Scenario.CreateProbe(0);
        bed.Scenario[0].EventStream.Subscribe<AppCheckpoint>(checkpoints.Ref);
        var spec = FlTestBed.App("app").Rounds(1).ClientsPerRound(7).OverSelection(1).Build();

        var result = bed.Run(bed.Submit(2, spec));
        var checkpoint = checkpoints.ExpectMsg<AppCheckpoint>();

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(checkpoint.Model.Parameters.ToArray(), Is.EqualTo(FlatFedAvg(spec, workers: 7)).Within(1e-6));
    }

    [Test]
    public void A_worker_crash_mid_round_closes_the_round_at_its_deadline_with_the_others()
    {
        var nodes = FlTestBed.Addresses(11);
        var star = new StarTopology(nodes[0], nodes.Skip(1));
        // Training takes ~12 s of virtual time on these devices, so a crash at 5 s lands mid-round.
        var bed = FlTestBed.Create(11, seed: 4, star, deviceFlops: _ => 1e4);
        var spec = FlTestBed.App("app").Rounds(2).ClientsPerRound(5).OverSelection(1).Build();
        var victim = SelectorState.Create(10, FlSettings.Default.CooldownRounds).Select(spec.Seed, spec.Name, 1, 5, 1.0)[0];

        var handle = bed.Submit(0, spec);
        bed.Scenario.Advance(TimeSpan.FromSeconds(5));
        bed.Scenario.Crash(victim + 1);
        var result = bed.Run(handle);
        var reports = FlTestBed.Reports(handle);

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(reports.Select(r => r.Participants), Is.EqualTo(new[] { 4, 5 }));
        Assert.That(reports[0].VirtualTime, Is.GreaterThanOrEqualTo(spec.RoundDeadline * FlSettings.Default.LevelBudgetFactor), "round 1 waited for the crashed worker until its deadline");
        Assert.That(reports[1].Invited, Does.Not.Contain(victim), "round 2 skips the worker that missed round 1");
    }

    [Test]
    public void Star_and_tree_with_one_seed_select_the_same_workers_and_train_the_same_model()
    {
        var nodes = FlTestBed.Addresses(11);
        var workers = nodes.Skip(1).ToArray();
        var spec = FlTestBed.App("app").Rounds(3).ClientsPerRound(4).OverSelection(1).Build();
        var star = FlTestBed.Create(11, seed: 5, new StarTopology(nodes[0], workers));
        var tree = FlTestBed.Create(11, seed: 5, StaticTreeTopology.Empty.WithBalancedTree("app", workers, fanOut: 3));

        var (starReports, starModel) = RunCapturingModel(star, spec, root: 0);
        var (treeReports, treeModel) = RunCapturingModel(tree, spec, root: 1);

        Assert.That(treeReports.Select(r => r.Invited), Is.EqualTo(starReports.Select(r => r.Invited)));
        Assert.That(treeReports.Select(r => r.Participants), Is.EqualTo(new[] { 4, 4, 4 }));
        Assert.That(treeModel, Is.EqualTo(starModel).Within(1e-5), "same partitions and selections give the same model up to fold rounding");
        Assert.That(treeReports.Select(r => r.Accuracy), Is.EqualTo(starReports.Select(r => r.Accuracy)).Within(1e-3));
    }

    [Test]
    public void Over_selection_keeps_exactly_K_updates_per_round()
    {
        var nodes = FlTestBed.Addresses(21);
        // Heterogeneous devices, so the invitees finish in different orders.
        var bed = FlTestBed.Create(21, seed: 6, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: i => 1e4 * (1 + (i % 4)));
        var spec = FlTestBed.App("app").Rounds(3).ClientsPerRound(5).OverSelection(1.3).Build();

        var handle = bed.Submit(0, spec);
        bed.Run(handle);
        var reports = FlTestBed.Reports(handle);

        Assert.That(reports, Has.Count.EqualTo(3));
        Assert.That(reports.Select(r => r.Invited.Length), Has.All.EqualTo(7));
        Assert.That(reports.Select(r => r.Participants), Has.All.EqualTo(5));
    }

    [Test]
    public void A_robust_rule_runs_end_to_end_on_relayed_updates()
    {
        var nodes = FlTestBed.Addresses(13);
        var bed = FlTestBed.Create(13, seed: 7, StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 3));
        var relayed = new List<int>();
        bed.Scenario.Transport.OnDelivered += delivery =>
        {
            if (delivery.Envelope.Manifest == "fl.subtree-result.v1")
            {
                var result = (SubtreeResult)FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[0]);
                Assert.That(result.Folded, Is.Null, "a non-foldable rule never folds");
                relayed.Add(result.Relayed.Length);
            }
        };
        var spec = FlTestBed.App("app").Strategy(Strategy.Median()).ClientsPerRound(9).OverSelection(1).Target(0.85).Build();

        var handle = bed.Submit(0, spec);
        var outcome = bed.Run(handle);
        var reports = FlTestBed.Reports(handle);

        Assert.That(outcome.Outcome, Is.EqualTo(AppOutcome.TargetReached));
        Assert.That(reports.Select(r => r.Participants), Has.All.EqualTo(9));
        Assert.That(relayed.Max(), Is.GreaterThan(1), "interior nodes relay their subtree's raw updates");
    }

    [Test]
    public void Cancel_stops_the_app()
    {
        var nodes = FlTestBed.Addresses(6);
        var bed = FlTestBed.Create(6, seed: 8, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: _ => 1e4);
        var handle = bed.Submit(3, FlTestBed.App("app").Rounds(50).ClientsPerRound(3).Build());

        var (cancels, starts, readies) = (new List<(long, Address)>(), new List<(long, Address)>(), new List<long>());
        bed.Scenario.Transport.OnDelivered += delivery =>
        {
            switch (FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[0]))
            {
                case RoundCancel cancel:
                    cancels.Add((cancel.Round, delivery.To));
                    break;
                case RoundStart start:
                    starts.Add((start.Round, delivery.To));
                    break;
                case UpdateReady ready:
                    readies.Add(ready.Round);
                    break;
            }
        };
        bed.Scenario.Advance(TimeSpan.FromSeconds(40));
        handle.Cancel();
        var result = bed.Run(handle);
        var readiesAtCancel = readies.Count;
        var startsAfter = 0;
        bed.Scenario.Transport.OnDelivered += delivery => startsAfter += delivery.Envelope.Manifest == "fl.round-start.v2" ? 1 : 0;
        bed.Scenario.Advance(TimeSpan.FromMinutes(10));

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.Cancelled));
        Assert.That(result.Rounds, Is.LessThan(50));
        Assert.That(FlTestBed.Reports(handle), Has.Count.EqualTo(result.Rounds - 1), "the cancelled round reports nothing");
        Assert.That(startsAfter, Is.Zero, "no round starts after the cancel");
        Assert.That(cancels, Is.Not.Empty.And.EquivalentTo(starts.Where(s => s.Item1 == result.Rounds)), "the round in flight is cancelled at every worker it went to");
        Assert.That(readies, Has.Count.EqualTo(readiesAtCancel), "and none of them asks for admission afterwards");
    }

    [Test]
    public void An_app_with_another_apps_seed_name_makes_its_choices_and_trains_its_model()
    {
        var nodes = FlTestBed.Addresses(9);
        var bed = FlTestBed.Create(9, seed: 12, new StarTopology(nodes[0], nodes.Skip(1)));
        TotoroApp App(string name) => FlTestBed.App(name).Rounds(3).ClientsPerRound(3).OverSelection(1).Partition(Partitioning.Dirichlet(0.5));

        var original = FlTestBed.Reports(Completed(bed, bed.Submit(1, App("a").Build())));
        var copy = FlTestBed.Reports(Completed(bed, bed.Submit(2, App("b").SeedName("a").Build())));
        var other = FlTestBed.Reports(Completed(bed, bed.Submit(3, App("c").Build())));

        static string[] Choices(IReadOnlyList<RoundReport> reports) =>
            [.. reports.Select(r => $"{string.Join(',', r.Invited)} {r.Accuracy:R} {r.Loss:R}")];
        Assert.That(Choices(copy), Is.EqualTo(Choices(original)), "same selections, partitions and batches: the same model");
        Assert.That(other.Select(r => string.Join(',', r.Invited)), Is.Not.EqualTo(original.Select(r => string.Join(',', r.Invited))));
    }

    private static AppHandle Completed(FlTestBed bed, AppHandle handle)
    {
        bed.Run(handle);
        return handle;
    }

    [Test]
    public void Stale_and_duplicate_messages_reaching_the_root_are_dropped_and_reported()
    {
        var nodes = FlTestBed.Addresses(6);
        var bed = FlTestBed.Create(6, seed: 11, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: _ => 1e4);
        // Over-selection (5 invited, K = 4), so workers ask the root for admission and a repeated "ready" can occur.
        var spec = FlTestBed.App("app").Rounds(2).ClientsPerRound(4).OverSelection(1.25).Build();
        var coordinator = bed.Scenario[1].Resolve(new ActorPath(nodes[0], "/user/fl/coord-app"));
        var intruder = bed.Scenario.CreateProbe(1);
        long? run = null;
        bed.Scenario.Transport.OnDelivered += delivery => run ??= delivery.Envelope.Manifest == "fl.round-start.v2"
            ? ((RoundStart)FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[0])).Run
            : null;
        var handle = bed.Submit(0, spec);

        // Round 1 is under way (training takes ~24 s): a result for round 0 is stale, worker 0 saying "ready" twice
        // (once here, once when it is done) is a duplicate, and a "ready" from another run of the app is stale.
        bed.Scenario.Advance(TimeSpan.FromSeconds(1));
        intruder.Send(coordinator, new SubtreeResult("app", run!.Value, 0, nodes[1], null, [], RoundCounters.Zero));
        bed.Scenario.Advance(TimeSpan.FromSeconds(10));
        intruder.Send(coordinator, new UpdateReady("app", run.Value, 1, 0, nodes[1]));
        intruder.Send(coordinator, new UpdateReady("app", run.Value - 1, 1, 1, nodes[2]));
        var result = bed.Run(handle);
        var reports = FlTestBed.Reports(handle);

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(reports.Select(r => (r.StaleDropped, r.DuplicatesDropped)), Is.EqualTo(new[] { (2, 1), (0, 0) }));
        Assert.That(reports.Select(r => r.Participants), Has.All.EqualTo(4));
    }

    [Test]
    public void A_new_topology_snapshot_takes_effect_from_the_next_round()
    {
        var nodes = FlTestBed.Addresses(7);
        var balanced = StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 2);
        var flat = StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 6);
        // Inline evaluation: the snapshot lands between the rounds, while round 1 is evaluated (overlapped, round 2 opens with the checkpoint).
        var bed = FlTestBed.Create(7, seed: 12, balanced, deviceFlops: _ => 1e5, settings: FlSettings.Default with { Evaluation = EvaluationMode.Inline });
        var checkpoints = bed.Scenario.CreateProbe(0);
        bed.Scenario[0].EventStream.Subscribe<AppCheckpoint>(checkpoints.Ref);
        var resultsTo = new List<(long Round, Address To)>();
        bed.Scenario.Transport.OnDelivered += delivery =>
        {
            if (delivery.Envelope.Manifest == "fl.subtree-result.v1")
            {
                var result = (SubtreeResult)FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[0]);
                resultsTo.Add((result.Round, delivery.To));
            }
        };
        var handle = bed.Submit(0, FlTestBed.App("app").Rounds(2).ClientsPerRound(7).OverSelection(1).Build());

        bed.Scenario.RunUntil(() => checkpoints.PendingCount > 0, TimeSpan.FromHours(1));
        for (var i = 0; i < 7; i++)
        {
            bed.Scenario[i].Resolve(new ActorPath(nodes[i], "/user/fl")).Tell(new FlTopologyChanged(flat));
        }

        var outcome = bed.Run(handle);

        Assert.That(outcome.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(resultsTo.Where(r => r.Round == 1).Select(r => r.To).Distinct(), Is.EquivalentTo(new[] { nodes[0], nodes[1], nodes[2] }));
        Assert.That(resultsTo.Where(r => r.Round == 2).Select(r => r.To).Distinct(), Is.EquivalentTo(new[] { nodes[0] }));
        Assert.That(FlTestBed.Reports(handle).Select(r => r.Participants), Is.EqualTo(new[] { 7, 7 }));
    }

    [Test]
    public void An_app_resubmitted_after_it_finished_runs_afresh_on_the_same_nodes()
    {
        var nodes = FlTestBed.Addresses(7);
        var bed = FlTestBed.Create(7, seed: 13, StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 2));
        var first = bed.Submit(0, FlTestBed.App("app").Rounds(3).ClientsPerRound(7).OverSelection(1).Build());
        Assert.That(bed.Run(first).Rounds, Is.EqualTo(3));

        var again = bed.Submit(4, FlTestBed.App("app").Model("mlp:8").Partition(Partitioning.Dirichlet(0.5)).Rounds(2).ClientsPerRound(7).OverSelection(1).Build());
        var result = bed.Run(again);

        Assert.That((result.Outcome, result.Rounds), Is.EqualTo((AppOutcome.BudgetExhausted, 2L)));
        Assert.That(FlTestBed.Reports(again).Select(r => (r.Round, r.Participants, r.StaleDropped)), Is.EqualTo(new[] { (1L, 7, 0), (2L, 7, 0) }));
    }

    [Test]
    public void A_second_app_with_a_running_name_is_rejected()
    {
        var nodes = FlTestBed.Addresses(4);
        var bed = FlTestBed.Create(4, seed: 9, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: _ => 1e4);
        var spec = FlTestBed.App("app").Rounds(2).ClientsPerRound(2).Build();

        var first = bed.Submit(1, spec);
        var second = bed.Submit(2, spec);
        var rejected = bed.Run(second);

        Assert.That((rejected.Outcome, rejected.Error), Is.EqualTo((AppOutcome.Failed, "an app named 'app' is already running")));
        Assert.That(bed.Run(first).Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
    }

    [Test]
    public void Round_time_includes_the_devices_compute_time()
    {
        var nodes = FlTestBed.Addresses(5);
        var bed = FlTestBed.Create(5, seed: 10, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: _ => 1e4);
        var spec = FlTestBed.App("app").Rounds(1).ClientsPerRound(4).OverSelection(1).Build();
        var handle = bed.Submit(0, spec);
        bed.Run(handle);

        var model = ModelFactory.Create(spec.Model, spec.Seed, FlTestBed.Training.Shape, FlTestBed.Training.Classes);
        var samplesPerWorker = FlTestBed.Training.Count / 4;
        var training = TimeSpan.FromSeconds((double)model.FlopsPerSample * samplesPerWorker / 1e4);
        Assert.That(FlTestBed.Reports(handle).Single().VirtualTime, Is.GreaterThanOrEqualTo(training));
    }

    private static (IReadOnlyList<RoundReport> Reports, float[] Model) RunCapturingModel(FlTestBed bed, AppSpec spec, int root)
    {
        var checkpoints = bed.Scenario.CreateProbe(root);
        bed.Scenario[root].EventStream.Subscribe<AppCheckpoint>(checkpoints.Ref);
        var handle = bed.Submit(root, spec);
        bed.Run(handle);
        var last = Enumerable.Range(0, spec.Rounds).Select(_ => checkpoints.ExpectMsg<AppCheckpoint>()).Last();
        return (FlTestBed.Reports(handle), last.Model.Parameters.ToArray());
    }

    private static float[] FlatFedAvg(AppSpec spec, int workers)
    {
        var train = FlTestBed.Training;
        var model = ModelFactory.Create(spec.Model, spec.Seed, train.Shape, train.Classes);
        var initial = model.Parameters.ToArray();
        var global = new GlobalModel(TrainerActor.ArchitectureKey(model), 0, initial);
        var parts = spec.Partitioning.Split(train, workers, FlSeeds.Derive(spec.Seed, spec.Name, 0));
        var sum = new double[initial.Length];
        double total = 0;
        for (var w = 0; w < workers; w++)
        {
            var (update, _) = LocalRound.Train(model, spec, 1, w, global, train.Subset(parts[w]));
            total += update!.Weight;
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += update.Weight * update.Delta.Span[i];
            }
        }

        return [.. initial.Select((x, i) => (float)(x + (sum[i] / total)))];
    }
}
