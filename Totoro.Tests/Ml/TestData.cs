using Totoro.Ml.Kernels;

namespace Totoro.Tests.Ml;

/// <summary>Seeded random arrays for kernel and layer tests.</summary>
internal static class TestData
{
    public static float[] Uniform(int length, int seed, float scale = 1f)
    {
        var random = new SplitMix64((ulong)seed);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (2f * random.NextSingle() - 1f) * scale;
        }

        return values;
    }

    public static int[] Labels(int length, int classes, int seed)
    {
        var random = new SplitMix64((ulong)seed);
        var labels = new int[length];
        for (var i = 0; i < length; i++)
        {
            labels[i] = random.NextInt(classes);
        }

        return labels;
    }
}
