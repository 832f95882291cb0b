using Totoro.Ml.Data;
using Totoro.Ml.Models;
using Totoro.Ml.Training;

namespace Totoro.Tests.Ml.Training;

public sealed class LocalTrainerTests
{
    private static readonly SampleStore Blobs = SyntheticData.GaussianBlobs(600, 8, 3, separation: 6f, seed: 1);
    private static readonly SampleStore Squares = SyntheticData.Squares(400, 12, 4, noise: 0.3f, seed: 2);
    private static readonly SampleStore LargeSquares = SyntheticData.Squares(200, 20, 4, noise: 0.3f, seed: 3);

    private static TrainingOptions Sgd(int seed = 1) => new()
    {
        Epochs = 2, BatchSize = 16, LearningRate = 0.05f, Optimizer = OptimizerSettings.Sgd(momentum: 0.9f), Seed = seed,
    };

    [Test]
    public void Logistic_regression_separates_gaussian_blobs()
    {
        var model = ModelFactory.Create("logreg", 1, Blobs.Shape, 3);
        var before = Evaluator.Evaluate(model, Blobs.All());
        var result = new LocalTrainer().Train(model, Blobs.All(), Sgd());
        var after = Evaluator.Evaluate(model, Blobs.All());
        Assert.That(result, Is.EqualTo(new TrainingResult(1200, 76, result.MeanLoss, Completed: true)));
        Assert.That(after.Accuracy, Is.GreaterThan(0.95));
        Assert.That(after.Loss, Is.LessThan(before.Loss));
    }

    [Test]
    public void Cnn_learns_the_square_positions_with_adam()
    {
        var model = ModelFactory.Create("cnn", 1, Squares.Shape, 4);
        new LocalTrainer().Train(model, Squares.All(), Sgd() with { Epochs = 3, LearningRate = 0.001f, Optimizer = OptimizerSettings.Adam() });
        var evaluation = Evaluator.Evaluate(model, Squares.All());
        Assert.That(evaluation.Accuracy, Is.GreaterThan(0.9));
        Assert.That(evaluation.PerClassAccuracy, Has.All.GreaterThan(0.8));
    }

    [Test]
    public void Resnet8_with_group_norm_learns_the_square_positions()
    {
        var model = ModelFactory.Create("resnet8", 1, Squares.Shape, 4);
        new LocalTrainer().Train(model, Squares.All(), Sgd() with { Epochs = 3, LearningRate = 0.002f, Optimizer = OptimizerSettings.Adam() });
        Assert.That(Evaluator.Evaluate(model, Squares.All()).Accuracy, Is.GreaterThan(0.9));
    }

    [Test]
    public void Same_seed_gives_bit_identical_parameters_and_another_seed_does_not()
    {
        float[] Train(int seed)
        {
            var model = ModelFactory.Create("lenet5", 7, LargeSquares.Shape, 4);
            new LocalTrainer().Train(model, LargeSquares.All(), Sgd(seed) with { Epochs = 1 });
            return model.Parameters.ToArray();
        }

        Assert.That(Train(5), Is.EqualTo(Train(5)));
        Assert.That(Train(6), Is.Not.EqualTo(Train(5)));
    }

    [Test]
    public void Step_budget_overrides_epochs_and_wraps_around_the_data()
    {
        var model = ModelFactory.Create("logreg", 1, Blobs.Shape, 3);
        var result = new LocalTrainer().Train(model, Blobs.All(), Sgd() with { Epochs = 100, MaxSteps = 50, BatchSize = 32 });
        Assert.That(result.Steps, Is.EqualTo(50));
        // 600 samples = 18 full batches + one of 24 per pass: 2 passes (38 steps) + 12 full steps.
        Assert.That(result.SamplesSeen, Is.EqualTo(2 * 600 + 12 * 32));
    }

    [Test]
    public void Cancellation_stops_before_the_next_step_and_says_so()
    {
        var model = ModelFactory.Create("logreg", 1, Blobs.Shape, 3);
        var before = model.Parameters.ToArray();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var result = new LocalTrainer().Train(model, Blobs.All(), Sgd(), cancelled.Token);
        Assert.That(result.Completed, Is.False);
        Assert.That(result.Steps, Is.Zero);
        Assert.That(model.Parameters.ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void Fedprox_term_keeps_the_weights_near_the_start()
    {
        double DistanceAfter(float mu)
        {
            var model = ModelFactory.Create("mlp:16", 1, Blobs.Shape, 3);
            var start = model.Parameters.ToArray();
            new LocalTrainer().Train(model, Blobs.All(), Sgd() with { ProximalMu = mu, Optimizer = OptimizerSettings.Sgd() });
            var delta = new float[start.Length];
            model.Parameters.DeltaFrom(start, delta);
            return Math.Sqrt(delta.Sum(d => (double)d * d));
        }

        Assert.That(DistanceAfter(5f), Is.LessThan(0.5 * DistanceAfter(0f)));
    }

    [Test]
    public void Training_on_a_partition_only_sees_that_partition()
    {
        var parts = Partitioner.LabelShards(Blobs.Labels, 3, 1, seed: 1);
        var model = ModelFactory.Create("logreg", 1, Blobs.Shape, 3);
        var view = Blobs.Subset(parts[0]);
        var result = new LocalTrainer().Train(model, view, Sgd() with { Epochs = 1 });
        Assert.That(result.SamplesSeen, Is.EqualTo(view.Count));
        var shardClass = Blobs.Labels[parts[0][0]];
        Assert.That(view.ClassCounts().Count(c => c > 0), Is.EqualTo(1));
        var evaluation = Evaluator.Evaluate(model, Blobs.All());
        Assert.That(evaluation.PerClassAccuracy[shardClass], Is.EqualTo(1.0));
        Assert.That(evaluation.Accuracy, Is.LessThan(0.9), "a single-class shard cannot teach all three classes");
    }

    [Test]
    public void Steps_allocate_nothing_once_the_batch_size_has_been_seen()
    {
        var model = ModelFactory.Create("lenet5", 1, LargeSquares.Shape, 4);
        var trainer = new LocalTrainer();
        trainer.Train(model, LargeSquares.All(), Sgd() with { Epochs = 1 });

        long AllocatedBy(int epochs)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            trainer.Train(model, LargeSquares.All(), Sgd() with { Epochs = epochs });
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        AllocatedBy(1);
        Assert.That(AllocatedBy(4), Is.EqualTo(AllocatedBy(1)), "39 more steps, not one more byte");
    }

    [Test]
    public void Evaluation_reports_loss_accuracy_and_per_class_accuracy_consistently()
    {
        var model = ModelFactory.Create("logreg", 1, Blobs.Shape, 3);
        new LocalTrainer().Train(model, Blobs.All(), Sgd());
        var result = Evaluator.Evaluate(model, Blobs.All(), batchSize: 7);
        Assert.That(result.Samples, Is.EqualTo(600));
        Assert.That(result.PerClassAccuracy.Average(), Is.EqualTo(result.Accuracy).Within(1e-12), "classes are balanced");
        Assert.That(Evaluator.Evaluate(model, Blobs.All(), batchSize: 256), Is.EqualTo(result).Using<EvaluationResult>((a, b) =>
            a.Accuracy == b.Accuracy && Math.Abs(a.Loss - b.Loss) < 1e-6));
    }
}
