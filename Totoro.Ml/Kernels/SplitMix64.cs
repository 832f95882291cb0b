namespace Totoro.Ml.Kernels;

/// <summary>
/// A tiny seeded generator whose sequence is fixed by this code, not by a runtime version,
/// so shuffles, masks and initial weights stay reproducible across .NET releases.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 bits, exactly representable as float.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound) (Lemire's multiply-shift; the bias is below 2⁻³² for our bounds).</summary>
    public int NextInt(int bound) => (int)(((NextUInt64() >> 32) * (ulong)bound) >> 32);

    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public void Shuffle(Span<int> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
