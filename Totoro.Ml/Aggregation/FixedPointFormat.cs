using System.Globalization;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// The integer fixed-point representation of a foldable sum (docs/aggregation.md §1, "Exact fold"). The first node
/// that folds a worker's update quantizes each weighted coordinate once: qᵢⱼ = RNE(cᵢ·Δᵢⱼ·2^F), the float64
/// product of the fold coefficient (normally the sample count) and the float32 coordinate, scaled by 2^F and
/// rounded to the nearest integer, ties to even. Partials carry Σqᵢⱼ as int64; integer addition is associative and
/// commutative, so every tree shape, grouping and arrival order gives the same bits at the root, which
/// dequantizes once: meanⱼ = (float)(Σqᵢⱼ · (2^−F / W)).
/// <para>
/// Range: one weighted coordinate must satisfy |cᵢ·Δᵢⱼ| ≤ 2^(53−F) (the quantized value is then an integer that
/// float64 holds exactly); larger ones are refused, naming the coordinate. A sum is refused when the sum of its
/// inputs' largest magnitudes could exceed 2^62, so no coordinate can ever wrap around.
/// </para>
/// </summary>
public sealed record FixedPointFormat
{
    public FixedPointFormat(int fractionBits)
    {
        if (fractionBits is < MinFractionBits or > MaxFractionBits)
        {
            throw new ArgumentOutOfRangeException(
                nameof(fractionBits), fractionBits, $"aggregation fraction-bits must be in [{MinFractionBits}, {MaxFractionBits}]");
        }

        FractionBits = fractionBits;
    }

    public const int MinFractionBits = 8;

    public const int MaxFractionBits = 48;

    /// <summary>|q| of one quantized weighted coordinate is at most 2^53: exact in float64, and 2⁹ of them fit in 2^62.</summary>
    public const double MaxQuantized = 9007199254740992.0;

    /// <summary>A fold refuses an input that could take the sum of magnitudes past 2^62 (half of the int64 range).</summary>
    public const double MaxBound = 4611686018427387904.0;

    /// <summary>F: one unit of a quantized sum is 2^−F.</summary>
    public int FractionBits { get; }

    /// <summary>2^F, the quantization scale.</summary>
    public double Scale => Math.ScaleB(1.0, FractionBits);

    /// <summary>The largest |cᵢ·Δᵢⱼ| accepted: 2^(53−F).</summary>
    public double MaxWeightedValue => Math.ScaleB(1.0, 53 - FractionBits);

    /// <summary>
    /// 2^−32 per unit: one weighted coordinate up to ±2^21 (2,097,152), error ≤ 2^−33 per contribution. For a mean
    /// of sample-weighted updates that is far below float32's half-ulp near typical update magnitudes (docs/aggregation.md).
    /// </summary>
    public static FixedPointFormat Default { get; } = new(32);

    internal UpdateRejected OutOfRange(ulong? id, int coordinate, double value) =>
        new(id, RejectionReason.ValueOutOfRange, string.Create(CultureInfo.InvariantCulture,
            $"coordinate {coordinate}: weighted value {value:R} is outside the fixed-point range ±{MaxWeightedValue:R} (fraction-bits {FractionBits})"));

    internal static UpdateRejected Exhausted(ulong? id, double bound) =>
        new(id, RejectionReason.ValueOutOfRange, string.Create(CultureInfo.InvariantCulture,
            $"the fixed-point sum could overflow: its bound {bound:R} would pass 2^62 units; lower the fraction bits or fold fewer inputs per node"));
}
