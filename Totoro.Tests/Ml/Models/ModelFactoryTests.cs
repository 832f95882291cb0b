using Totoro.Ml.Models;
using Totoro.Ml.Tensors;

namespace Totoro.Tests.Ml.Models;

public sealed class ModelFactoryTests
{
    [TestCase("logreg", 7_850)]
    [TestCase("mlp", 199_210)]
    [TestCase("mlp:256-128", 235_146)]
    [TestCase("lenet5", 61_706)]
    [TestCase("cnn", 1_199_882)]
    [TestCase("resnet8", 77_898)]
    public void Builds_the_named_architecture_with_the_expected_parameter_count(string name, int parameters)
    {
        var model = ModelFactory.Create(name, seed: 1);
        Assert.That(model.Parameters.Length, Is.EqualTo(parameters));
        Assert.That(model.InputShape, Is.EqualTo(new TensorShape(1, 28, 28)));
        Assert.That(model.Classes, Is.EqualTo(10));
        // Every weight is used at least once per sample forward (2 FLOPs) and backward doubles that;
        // biases and norm scales (under a thousand here) are not counted.
        Assert.That(model.FlopsPerSample, Is.GreaterThanOrEqualTo(3L * 2 * (parameters - 1_000)));
    }

    [Test]
    public void Flops_per_sample_counts_forward_and_backward()
    {
        // MLP: 2·(784·200 + 200·200 + 200·10) multiply-adds forward, backward twice that.
        Assert.That(ModelFactory.Create("mlp", 1).FlopsPerSample, Is.EqualTo(3L * 2 * (784 * 200 + 200 * 200 + 200 * 10)));
    }

    [Test]
    public void Architecture_id_is_stable_and_depends_only_on_the_layer_spec()
    {
        var lenet = ModelFactory.Create("lenet5", seed: 1);
        Assert.That(ModelFactory.Create("lenet5", seed: 99).ArchitectureId, Is.EqualTo(lenet.ArchitectureId));
        Assert.That(ModelFactory.Create("cnn", seed: 1).ArchitectureId, Is.Not.EqualTo(lenet.ArchitectureId));
        Assert.That(ModelFactory.Create("mlp:200-100", 1).ArchitectureId, Is.Not.EqualTo(ModelFactory.Create("mlp", 1).ArchitectureId));
        Assert.That(lenet.Spec.Canonical, Is.EqualTo(
            "1x28x28|conv(6,k5,p2,Relu)|maxpool(2,2)|conv(16,k5,p0,Relu)|maxpool(2,2)|dense(120,Relu)|dense(84,Relu)|dense(10,None)"));

        // Pinned: peers compare ids across versions, so a change here is a wire-visible change.
        Assert.That(lenet.ArchitectureId, Is.EqualTo("6577f684ffde1628"));
    }

    [Test]
    public void Same_seed_gives_identical_initial_parameters_and_another_seed_different_ones()
    {
        Assert.That(ModelFactory.Create("lenet5", 3).Parameters.ToArray(), Is.EqualTo(ModelFactory.Create("lenet5", 3).Parameters.ToArray()));
        Assert.That(ModelFactory.Create("lenet5", 4).Parameters.ToArray(), Is.Not.EqualTo(ModelFactory.Create("lenet5", 3).Parameters.ToArray()));
    }

    [Test]
    public void Models_adapt_to_other_input_shapes_and_class_counts()
    {
        var model = ModelFactory.Create("cnn", 1, new TensorShape(1, 12, 12), 4);
        Assert.That(model.Classes, Is.EqualTo(4));
        var logits = model.Predict(new float[2 * 144], 2);
        Assert.That(logits.Length, Is.EqualTo(8));
    }

    [TestCase("resnet")]
    [TestCase("mlp:0")]
    [TestCase("mlp:a-b")]
    [TestCase("lenet5:3")]
    public void Unknown_or_malformed_names_are_rejected_with_the_known_list(string name)
    {
        Assert.That(() => ModelFactory.Create(name, 1), Throws.ArgumentException);
    }
}
