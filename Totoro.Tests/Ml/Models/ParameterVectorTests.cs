using Totoro.Ml.Models;

namespace Totoro.Tests.Ml.Models;

public sealed class ParameterVectorTests
{
    [Test]
    public void Get_then_set_roundtrips_and_setting_changes_what_the_layers_compute()
    {
        var source = ModelFactory.Create("lenet5", seed: 1);
        var target = ModelFactory.Create("lenet5", seed: 2);
        var inputs = TestData.Uniform(3 * 784, 1);
        var expected = source.Predict(inputs, 3).ToArray();
        Assert.That(target.Predict(inputs, 3).ToArray(), Is.Not.EqualTo(expected));

        var weights = source.Parameters.ToArray();
        target.Parameters.Set(weights);

        Assert.That(target.Parameters.ToArray(), Is.EqualTo(weights));
        Assert.That(target.Predict(inputs, 3).ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Add_and_delta_from_are_inverse()
    {
        var model = ModelFactory.Create("mlp", seed: 1);
        var start = model.Parameters.ToArray();
        var delta = TestData.Uniform(start.Length, 2);
        model.Parameters.Add(delta, 0.5f);
        var measured = new float[start.Length];
        model.Parameters.DeltaFrom(start, measured);
        Assert.That(measured, Is.EqualTo(delta.Select(d => 0.5f * d)).Within(1e-6f));
    }

    [Test]
    public void Wrong_lengths_are_rejected()
    {
        var model = ModelFactory.Create("logreg", seed: 1);
        Assert.That(() => model.Parameters.Set(new float[3]), Throws.ArgumentException.With.Message.Contains("7850"));
        Assert.That(() => model.Parameters.Add(new float[3]), Throws.ArgumentException);
    }
}
