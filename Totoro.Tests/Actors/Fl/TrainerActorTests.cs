using Totoro.Actors.Fl;
using Totoro.Kernel;
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
}
