using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Models;
using Totoro.Ml.Training;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class TrainerActorTests
{
    [Test]
    public void Jobs_after_the_workspace_went_back_to_the_pool_compute_what_a_fresh_model_computes()
    {
        var spec = FlTestBed.App("app").Model("mlp:32").BatchSize(8).Build();
        FlTestBed.Catalog.TryGet(FlTestBed.Blobs, out var data);
        var fresh = ModelFactory.Create(spec.Model, spec.Seed, data.Train.Shape, data.Train.Classes);
        var global = new GlobalModel(TrainerActor.ArchitectureKey(fresh), 0, fresh.Parameters.ToArray());
        var parts = new[] { data.Train.Subset([.. Enumerable.Range(0, 200)]), data.Train.Subset([.. Enumerable.Range(500, 300)]) };
        var scenario = Scenario.Create(1, seed: 3);
        var trainer = scenario[0].ActorOf(Props.Create(() => new TrainerActor()), "trainer");
        var probe = scenario.CreateProbe(0);

        // Training (batch 8), evaluation (batch 256), training again: each job rents its workspace anew.
        probe.Send(trainer, new TrainJob(spec, 1, 0, global, parts[0]));
        var first = probe.ExpectMsg<TrainDone>();
        probe.Send(trainer, new EvaluateJob(spec, 1, global, data.Test.All()));
        var evaluated = probe.ExpectMsg<EvaluateDone>();
        probe.Send(trainer, new TrainJob(spec, 2, 1, global, parts[1]));
        var second = probe.ExpectMsg<TrainDone>();

        for (var worker = 0; worker < 2; worker++)
        {
            var expected = LocalRound.Train(ModelFactory.Create(spec.Model, spec.Seed, data.Train.Shape, data.Train.Classes), spec, worker + 1, worker, global, parts[worker]);
            var actual = worker == 0 ? first : second;
            Assert.That(actual.Update!.Delta.ToArray(), Is.EqualTo(expected.Update!.Delta.ToArray()), $"worker {worker}: bit for bit");
        }

        var reference = ModelFactory.Create(spec.Model, spec.Seed, data.Test.Shape, data.Test.Classes);
        var eval = Evaluator.Evaluate(reference, data.Test.All());
        Assert.That((evaluated.Accuracy, evaluated.Loss), Is.EqualTo((eval.Accuracy, eval.Loss)));
    }

    private static ClientUpdate Update(ulong worker, ulong architecture, int length) =>
        new(worker, architecture, Enumerable.Repeat(0.5f, length).ToArray(), 10, System.Collections.Immutable.ImmutableSortedDictionary<string, double>.Empty);

    private static SubtreeRound Collected(long round, params ClientUpdate[] updates)
    {
        var collected = SubtreeRound.Open(round, [], ownWorkerInvited: true, bytesDown: 0);
        foreach (var update in updates)
        {
            collected = collected with { Updates = collected.Updates.Add(update), Contributors = collected.Contributors.Add(update.ContributorId) };
        }

        return collected;
    }

    [Test]
    public void A_fold_that_throws_answers_no_partial_and_the_trainer_goes_on()
    {
        var shape = new ModelShape(7, 4);
        var rule = new FedAvgRule(AggregationLimits.Default);
        var scenario = Scenario.Create(1, seed: 3);
        var trainer = scenario[0].ActorOf(Props.Create(() => new TrainerActor()), "trainer");
        var probe = scenario.CreateProbe(0);

        // Worker 2's update is of another architecture: the rule refuses it and the fold throws naming the worker.
        probe.Send(trainer, new FoldJob(rule, shape, Collected(5, Update(1, 7, 4), Update(2, 9, 4)), AggregationLimits.Default));
        var failed = probe.ExpectMsg<FoldDone>();
        Assert.That((failed.Round, failed.Folded, failed.Flops), Is.EqualTo((5L, (PartialAggregate?)null, 0.0)), "answered: the aggregator sends no partial instead of waiting");

        probe.Send(trainer, new FoldJob(rule, shape, Collected(6, Update(1, 7, 4), Update(2, 7, 4)), AggregationLimits.Default));
        var folded = probe.ExpectMsg<FoldDone>();
        Assert.That(folded.Round, Is.EqualTo(6));
        Assert.That(folded.Folded!.ContributorCount, Is.EqualTo(2), "the same trainer folds the next job");
    }

    [Test]
    public void An_aggregation_that_throws_answers_a_failed_aggregation_naming_the_error()
    {
        var scenario = Scenario.Create(1, seed: 3);
        var trainer = scenario[0].ActorOf(Props.Create(() => new TrainerActor()), "trainer");
        var probe = scenario.CreateProbe(0);

        probe.Send(trainer, new AggregateJob(3, new ThrowingRule(), new ModelShape(7, 4), null, [Update(1, 7, 4)]));

        var done = probe.ExpectMsg<AggregateDone>();
        Assert.That(done.Round, Is.EqualTo(3));
        Assert.That(done.Result!.Error, Does.Contain("rule broke"));
        Assert.That(done.Result.ContributorCount, Is.Zero);
    }

    private sealed class ThrowingRule : IAggregationRule
    {
        public string Name => "throwing";

        public bool IsFoldable => false;

        public AggregationResult Aggregate(ModelShape shape, IReadOnlyList<ClientUpdate> updates, long round) => throw new InvalidOperationException("rule broke");
    }
}
