using Totoro.Ml.Serialization;

namespace Totoro.Tests.Ml.Serialization;

public class Int8KernelsTests
{
    [Test]
    public void Vector_quantize_matches_scalar_round_half_to_even()
    {
        var rng = new Random(17);
        // Exact halves (k + 0.5) exercise the tie rule; 203 elements cover the vector loop and the tail.
        var x = Enumerable.Range(0, 203).Select(i => i % 3 == 0 ? (float)(rng.Next(-127, 127) + 0.5) : (float)((rng.NextDouble() * 254) - 127)).ToArray();
        var q = new sbyte[x.Length];

        Int8Kernels.Quantize(x, 1f, q);

        Assert.That(q.Select(v => (int)v), Is.EqualTo(x.Select(v => (int)Math.Clamp(MathF.Round(v), -128f, 127f))));
    }

    [Test]
    public void Dequantize_scales_every_value()
    {
        var q = Enumerable.Range(-128, 256).Select(v => (sbyte)v).ToArray();
        var x = new float[q.Length];

        Int8Kernels.Dequantize(q, 0.5f, x);

        Assert.That(x, Is.EqualTo(q.Select(v => v * 0.5f)));
    }
}
