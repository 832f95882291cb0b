using Totoro.Ml.Training;

namespace Totoro.Tests.Ml.Training;

/// <summary>Optimizers against scalar transcriptions of PyTorch's update rules (length 37 exercises the SIMD tail).</summary>
public sealed class OptimizerTests
{
    private const int N = 37;

    [TestCase(0f, false, 0f)]
    [TestCase(0.9f, false, 0f)]
    [TestCase(0.9f, true, 0.01f)]
    [TestCase(0f, false, 0.1f)]
    public void Sgd_follows_the_pytorch_rule(float momentum, bool nesterov, float weightDecay)
    {
        var w = TestData.Uniform(N, 1);
        var expected = (float[])w.Clone();
        var velocity = new double[N];
        var sgd = new Sgd(N, momentum, nesterov, weightDecay);
        for (var step = 0; step < 3; step++)
        {
            var g = TestData.Uniform(N, 10 + step);
            for (var i = 0; i < N; i++)
            {
                double gi = g[i] + weightDecay * expected[i];
                if (momentum > 0)
                {
                    velocity[i] = step == 0 ? gi : momentum * velocity[i] + gi;
                    gi = nesterov ? gi + momentum * velocity[i] : velocity[i];
                }

                expected[i] = (float)(expected[i] - 0.1 * gi);
            }

            sgd.Step(w, g, 0.1f);
        }

        Assert.That(w, Is.EqualTo(expected).Within(1e-5f));
    }

    [Test]
    public void Adam_follows_the_bias_corrected_rule()
    {
        var w = TestData.Uniform(N, 2);
        var expected = w.Select(v => (double)v).ToArray();
        var m = new double[N];
        var v2 = new double[N];
        var adam = new Adam(N, weightDecay: 0.01f);
        for (var t = 1; t <= 3; t++)
        {
            var g = TestData.Uniform(N, 20 + t);
            for (var i = 0; i < N; i++)
            {
                var gi = g[i] + 0.01 * expected[i];
                m[i] = 0.9 * m[i] + 0.1 * gi;
                v2[i] = 0.999 * v2[i] + 0.001 * gi * gi;
                expected[i] -= 0.01 * (m[i] / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v2[i] / (1 - Math.Pow(0.999, t))) + 1e-8);
            }

            adam.Step(w, g, 0.01f);
        }

        Assert.That(w, Is.EqualTo(expected.Select(e => (float)e)).Within(1e-5f));
    }

    [Test]
    public void Reset_forgets_momentum()
    {
        var g = TestData.Uniform(N, 3);
        var fresh = new float[N];
        new Sgd(N, 0.9f).Step(fresh, g, 0.1f);
        var reused = new float[N];
        var sgd = new Sgd(N, 0.9f);
        sgd.Step(new float[N], g, 0.1f);
        sgd.Reset();
        sgd.Step(reused, g, 0.1f);
        Assert.That(reused, Is.EqualTo(fresh));
    }
}
