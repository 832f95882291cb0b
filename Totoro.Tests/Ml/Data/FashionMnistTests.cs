using Totoro.Ml.Data;
using Totoro.Ml.Models;
using Totoro.Ml.Training;

namespace Totoro.Tests.Ml.Data;

/// <summary>Needs the Debian package dataset-fashion-mnist (scripts/ensure-data.sh installs it).</summary>
[Category("Data")]
public sealed class FashionMnistTests
{
    private static readonly Lazy<(SampleStore Train, SampleStore Test)> Data = new(() => FashionMnist.Load(
        Environment.GetEnvironmentVariable("TOTORO_FASHION_MNIST") ?? FashionMnist.DefaultDirectory));

    [Test]
    public void Loads_sixty_thousand_training_and_ten_thousand_test_images_with_balanced_labels()
    {
        var (train, test) = Data.Value;
        Assert.That((train.Count, test.Count), Is.EqualTo((60_000, 10_000)));
        Assert.That(train.All().ClassCounts(), Has.All.EqualTo(6_000));
        Assert.That(test.All().ClassCounts(), Has.All.EqualTo(1_000));

        // Normalised with the training-set statistics: mean ≈ 0, standard deviation ≈ 1.
        var sum = 0.0;
        var squares = 0.0;
        for (var i = 0; i < train.Count; i += 10)
        {
            foreach (var v in train.Features(i))
            {
                sum += v;
                squares += v * v;
            }
        }

        var n = train.Count / 10 * 784.0;
        Assert.That(sum / n, Is.EqualTo(0).Within(0.02));
        Assert.That(Math.Sqrt(squares / n - sum / n * (sum / n)), Is.EqualTo(1).Within(0.02));
    }

    [Test]
    public void Lenet5_reaches_85_percent_test_accuracy_after_one_epoch()
    {
        var (train, test) = Data.Value;
        var model = ModelFactory.Create("lenet5", seed: 1);
        new LocalTrainer().Train(model, train.All(), new TrainingOptions
        {
            Epochs = 1, BatchSize = 32, LearningRate = 0.001f, Optimizer = OptimizerSettings.Adam(), Seed = 1,
        });
        var evaluation = Evaluator.Evaluate(model, test.All());
        Assert.That(evaluation.Accuracy, Is.GreaterThanOrEqualTo(0.85));
    }
}
