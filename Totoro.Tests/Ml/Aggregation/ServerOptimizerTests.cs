using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

/// <summary>
/// Two steps from x₀ = [1, −2] with Δ₁ = [0.5, −0.25], Δ₂ = [0.1, 0.3]. Reference values were computed
/// by hand from Reddi et al.'s Algorithm 2 (v₀ = τ², no bias correction); the first two are worked below.
/// </summary>
public class ServerOptimizerTests
{
    private static readonly float[][] Deltas = [[0.5f, -0.25f], [0.1f, 0.3f]];

    [Test]
    public void FedAvgM_matches_hand_computed_steps()
    {
        // v₁ = Δ₁, x₁ = [1.25, −2.125]; v₂ = 0.9·v₁ + Δ₂ = [0.55, 0.075], x₂ = x₁ + 0.5·v₂.
        AssertTwoSteps(new FedAvgM(learningRate: 0.5, momentum: 0.9), [1.525, -2.0875]);
    }

    [Test]
    public void FedAdagrad_matches_hand_computed_steps()
    {
        // β₁ = 0: m = Δ. Step 1: v = 0.25 → x = 1 + 0.1·0.5/0.5 = 1.1; v = 0.0625 → x = −2 − 0.1 = −2.1.
        // Step 2: v = 0.26 → x = 1.1 + 0.01/√0.26; v = 0.1525 → x = −2.1 + 0.03/√0.1525.
        AssertTwoSteps(AdaptiveServerOptimizer.FedAdagrad(learningRate: 0.1, beta1: 0.0, tau: 1e-9), [1.1196116, -2.0231779]);
    }

    [Test]
    public void FedAdam_matches_hand_computed_steps() =>
        AssertTwoSteps(AdaptiveServerOptimizer.FedAdam(learningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3), [1.2042919, -2.0773231]);

    [Test]
    public void FedYogi_matches_hand_computed_steps() =>
        AssertTwoSteps(AdaptiveServerOptimizer.FedYogi(learningRate: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3), [1.0203789, -2.0077360]);

    [Test]
    public void ServerSgd_with_rate_one_applies_the_fedavg_delta()
    {
        AssertTwoSteps(new ServerSgd(), [1.6, -1.95]);
    }

    [Test]
    public void Optimizer_refuses_a_delta_of_another_length()
    {
        var optimizer = AdaptiveServerOptimizer.FedAdam();
        var model = new float[3];

        Assert.That(() => optimizer.Step(model, new float[2]), Throws.ArgumentException);
    }

    private static void AssertTwoSteps(IServerOptimizer optimizer, double[] expected)
    {
        float[] model = [1f, -2f];
        foreach (var delta in Deltas)
        {
            optimizer.Step(model, delta);
        }

        Assert.That(model[0], Is.EqualTo(expected[0]).Within(2e-6), optimizer.Name);
        Assert.That(model[1], Is.EqualTo(expected[1]).Within(2e-6), optimizer.Name);
    }
}
