using Totoro.Ml.Kernels;
using Totoro.Ml.Layers;
using Totoro.Ml.Tensors;

namespace Totoro.Tests.Ml.Layers;

/// <summary>Forward passes against naive loops (the gradient checks only prove backward consistent with forward).</summary>
public sealed class ForwardReferenceTests
{
    [TestCase(1, 8, 8, 3, 5, 2)]
    [TestCase(2, 7, 6, 4, 3, 0)]
    [TestCase(3, 9, 9, 5, 3, 1)]
    public void Conv2d_matches_direct_convolution(int cin, int h, int w, int cout, int k, int pad)
    {
        var input = new TensorShape(cin, h, w);
        var layer = new Conv2d(input, cout, k, pad, Activation.None);
        var parameters = TestData.Uniform(layer.ParameterCount, 1);
        layer.Bind(parameters, new float[parameters.Length], 0);
        const int batch = 3;
        var x = TestData.Uniform(batch * input.Size, 2);
        var y = new float[batch * layer.OutputShape.Size];
        layer.Forward(x, y, batch, training: false);

        var (oh, ow) = (layer.OutputShape.Height, layer.OutputShape.Width);
        var expected = new float[y.Length];
        for (var s = 0; s < batch; s++)
        {
            for (var o = 0; o < cout; o++)
            {
                for (var oy = 0; oy < oh; oy++)
                {
                    for (var ox = 0; ox < ow; ox++)
                    {
                        double sum = parameters[cout * cin * k * k + o];
                        for (var c = 0; c < cin; c++)
                        {
                            for (var ky = 0; ky < k; ky++)
                            {
                                for (var kx = 0; kx < k; kx++)
                                {
                                    var (iy, ix) = (oy + ky - pad, ox + kx - pad);
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                    {
                                        sum += parameters[((o * cin + c) * k + ky) * k + kx] * x[s * input.Size + (c * h + iy) * w + ix];
                                    }
                                }
                            }
                        }

                        expected[s * layer.OutputShape.Size + (o * oh + oy) * ow + ox] = (float)sum;
                    }
                }
            }
        }

        Assert.That(y, Is.EqualTo(expected).Within(1e-4f));
    }

    [Test]
    public void Dense_with_relu_matches_naive_matrix_product()
    {
        var layer = new Dense(TensorShape.Vector(19), 35, Activation.Relu);
        var parameters = TestData.Uniform(layer.ParameterCount, 3);
        layer.Bind(parameters, new float[parameters.Length], 0);
        const int batch = 5;
        var x = TestData.Uniform(batch * 19, 4);
        var y = new float[batch * 35];
        layer.Forward(x, y, batch, training: false);
        var expected = new float[y.Length];
        for (var s = 0; s < batch; s++)
        {
            for (var j = 0; j < 35; j++)
            {
                double sum = parameters[19 * 35 + j];
                for (var i = 0; i < 19; i++)
                {
                    sum += x[s * 19 + i] * parameters[i * 35 + j];
                }

                expected[s * 35 + j] = (float)Math.Max(0, sum);
            }
        }

        Assert.That(y, Is.EqualTo(expected).Within(1e-5f));
    }

    [TestCase(2, 2)]
    [TestCase(3, 2)]
    [TestCase(3, 1)]
    public void Max_and_average_pooling_match_naive_windows(int window, int stride)
    {
        const int planes = 3, h = 9, w = 8;
        var x = TestData.Uniform(planes * h * w, 5);
        var (oh, ow) = (Pooling.OutputSize(h, window, stride), Pooling.OutputSize(w, window, stride));
        var max = new float[planes * oh * ow];
        var avg = new float[max.Length];
        Pooling.MaxForward(x, planes, h, w, window, stride, max, new int[max.Length]);
        Pooling.AverageForward(x, planes, h, w, window, stride, avg);
        for (var p = 0; p < planes; p++)
        {
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    var values = new List<float>();
                    for (var wy = 0; wy < window; wy++)
                    {
                        for (var wx = 0; wx < window; wx++)
                        {
                            values.Add(x[(p * h + oy * stride + wy) * w + ox * stride + wx]);
                        }
                    }

                    var o = (p * oh + oy) * ow + ox;
                    Assert.That(max[o], Is.EqualTo(values.Max()));
                    Assert.That(avg[o], Is.EqualTo(values.Average()).Within(1e-6));
                }
            }
        }
    }

    [Test]
    public void Group_norm_gives_each_group_zero_mean_and_unit_variance_before_scale_and_shift()
    {
        var shape = new TensorShape(6, 3, 4);
        var layer = new GroupNorm(shape, 3, Activation.None);
        var parameters = new float[layer.ParameterCount];
        layer.Bind(parameters, new float[parameters.Length], 0);
        var random = new SplitMix64(1);
        layer.Initialize(ref random);
        var x = TestData.Uniform(2 * shape.Size, 11, scale: 4f).Select((v, i) => v + i % 7).ToArray();
        var y = new float[x.Length];
        layer.Forward(x, y, 2, training: true);
        for (var group = 0; group < 6; group++)
        {
            var values = y.Skip(group * 24).Take(24).Select(v => (double)v).ToArray();
            var mean = values.Average();
            Assert.That(mean, Is.EqualTo(0).Within(1e-5));
            Assert.That(values.Average(v => (v - mean) * (v - mean)), Is.EqualTo(1).Within(1e-3));
        }
    }

    [Test]
    public void Dropout_zeroes_about_the_rate_and_scales_the_rest_and_its_gradient_follows_the_mask()
    {
        var shape = TensorShape.Vector(1000);
        var layer = new Dropout(shape, 0.3f, seed: 7);
        var x = TestData.Uniform(2000, 8);
        var y = new float[2000];
        layer.Forward(x, y, 2, training: true);
        var dropped = y.Count(v => v == 0f);
        Assert.That(dropped, Is.InRange(500, 700));
        var dy = TestData.Uniform(2000, 9);
        var dx = new float[2000];
        layer.Backward(x, y, dy, dx, 2, needInputGradient: true);
        for (var i = 0; i < 2000; i++)
        {
            var kept = y[i] != 0f;
            Assert.That(y[i], Is.EqualTo(kept ? x[i] / 0.7f : 0f).Within(1e-6f));
            Assert.That(dx[i], Is.EqualTo(kept ? dy[i] / 0.7f : 0f).Within(1e-6f));
        }

        layer.Forward(x, y, 2, training: false);
        Assert.That(y, Is.EqualTo(x), "evaluation mode is the identity");
    }

    [Test]
    public void Softmax_cross_entropy_matches_double_reference()
    {
        const int classes = 7, batch = 4;
        var logits = TestData.Uniform(classes * batch, 10, scale: 5f);
        int[] labels = [0, 6, 3, 3];
        var gradient = new float[logits.Length];
        var loss = SoftmaxCrossEntropy.Forward(logits, labels, classes, gradient, 1f / batch);
        var expectedLoss = 0.0;
        for (var s = 0; s < batch; s++)
        {
            var z = logits.Skip(s * classes).Take(classes).Select(v => (double)v).ToArray();
            var sum = z.Sum(Math.Exp);
            expectedLoss += Math.Log(sum) - z[labels[s]];
            for (var c = 0; c < classes; c++)
            {
                var expected = (Math.Exp(z[c]) / sum - (c == labels[s] ? 1 : 0)) / batch;
                Assert.That(gradient[s * classes + c], Is.EqualTo(expected).Within(1e-6));
            }
        }

        Assert.That(loss, Is.EqualTo(expectedLoss).Within(1e-4));
    }
}
