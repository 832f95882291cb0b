using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Data;

/// <summary>Small seeded data sets for fast tests and simulations without FashionMNIST.</summary>
public static class SyntheticData
{
    /// <summary>
    /// Gaussian blobs: class c is centred on a random point at distance ~<paramref name="separation"/>
    /// from the origin, with unit variance per feature. Large separations are linearly separable.
    /// </summary>
    public static SampleStore GaussianBlobs(int samples, int features, int classes, float separation, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        var random = new SplitMix64((ulong)seed);
        var centres = new float[classes * features];
        for (var c = 0; c < classes; c++)
        {
            var centre = centres.AsSpan(c * features, features);
            var norm = 0.0;
            for (var f = 0; f < features; f++)
            {
                centre[f] = (float)random.NextGaussian();
                norm += centre[f] * centre[f];
            }

            var scale = separation / (float)Math.Sqrt(norm);
            for (var f = 0; f < features; f++)
            {
                centre[f] *= scale;
            }
        }

        var data = new float[samples * features];
        var labels = new int[samples];
        for (var s = 0; s < samples; s++)
        {
            var label = s % classes;
            labels[s] = label;
            for (var f = 0; f < features; f++)
            {
                data[s * features + f] = centres[label * features + f] + (float)random.NextGaussian();
            }
        }

        return new SampleStore(data, labels, TensorShape.Vector(features), classes);
    }

    /// <summary>
    /// Tiny images (1×size×size): class c is a bright 3×3 square at a class-specific position, plus Gaussian
    /// noise of the given standard deviation; a stand-in for image data that a small CNN learns in seconds.
    /// </summary>
    public static SampleStore Squares(int samples, int size, int classes, float noise, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 6);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        var cells = (size - 2) / 3;
        if (classes > cells * cells)
        {
            throw new ArgumentException($"a {size}x{size} image holds at most {cells * cells} square positions", nameof(classes));
        }

        var random = new SplitMix64((ulong)seed);
        var plane = size * size;
        var data = new float[samples * plane];
        var labels = new int[samples];
        for (var s = 0; s < samples; s++)
        {
            var label = s % classes;
            labels[s] = label;
            var image = data.AsSpan(s * plane, plane);
            for (var i = 0; i < plane; i++)
            {
                image[i] = noise * (float)random.NextGaussian();
            }

            var top = 1 + label / cells * 3;
            var left = 1 + label % cells * 3;
            for (var y = 0; y < 3; y++)
            {
                for (var x = 0; x < 3; x++)
                {
                    image[(top + y) * size + left + x] += 1f;
                }
            }
        }

        return new SampleStore(data, labels, new TensorShape(1, size, size), classes);
    }
}
