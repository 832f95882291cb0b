namespace Totoro.Ml.Aggregation;

/// <summary>
/// Seeded standard-normal samples: xoshiro256** seeded by SplitMix64 (so any 64-bit seed gives a
/// well-mixed state) and the Box–Muller transform. Deterministic across runtimes and platforms,
/// unlike <see cref="Random"/>'s unseeded algorithms.
/// </summary>
internal sealed class GaussianNoise
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    public GaussianNoise(ulong seed)
    {
        _s0 = SplitMix64(ref seed);
        _s1 = SplitMix64(ref seed);
        _s2 = SplitMix64(ref seed);
        _s3 = SplitMix64(ref seed);
    }

    /// <summary>A stream per (seed, round): rounds never reuse noise, and replaying a round reproduces it.</summary>
    public static GaussianNoise ForRound(ulong seed, long round)
    {
        ulong mixed = seed ^ ((ulong)round * 0x9E37_79B9_7F4A_7C15ul);
        return new GaussianNoise(SplitMix64(ref mixed));
    }

    public double NextStandardNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        // u1 in (0, 1] keeps the logarithm finite.
        double u1 = (NextUInt64() >> 11) * (1.0 / (1ul << 53));
        u1 = 1.0 - u1;
        double u2 = (NextUInt64() >> 11) * (1.0 / (1ul << 53));
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        (double sin, double cos) = Math.SinCos(2.0 * Math.PI * u2);
        _spare = radius * sin;
        _hasSpare = true;
        return radius * cos;
    }

    private ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E37_79B9_7F4A_7C15ul;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9ul;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBul;
        return z ^ (z >> 31);
    }
}
