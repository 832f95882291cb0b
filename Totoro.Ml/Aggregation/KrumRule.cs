using System.Globalization;
using System.Numerics.Tensors;

namespace Totoro.Ml.Aggregation;

/// <summary>
/// Krum and Multi-Krum (Blanchard et al., NeurIPS 2017), with Flower's semantics: score(i) = Σ of the
/// squared distances from Vᵢ to its n − f − 2 nearest other updates; Krum (m = 1) returns the best-scored
/// update, Multi-Krum the sample-weighted mean of the m best. Needs n &gt; 2f + 2. O(n²·d): meant for n in
/// the tens. Not foldable.
/// </summary>
public sealed class KrumRule : IAggregationRule
{
    private readonly AggregationLimits _limits;

    public KrumRule(AggregationLimits limits, int byzantine, int selected = 1)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfNegative(byzantine);
        ArgumentOutOfRangeException.ThrowIfLessThan(selected, 1);
        _limits = limits;
        Byzantine = byzantine;
        Selected = selected;
    }

    public int Byzantine { get; }

    public int Selected { get; }

    public string Name => Selected == 1 ? "krum" : "multi-krum";

    public bool IsFoldable => false;

    public AggregationResult Aggregate(ModelShape shape, IReadOnlyList<ClientUpdate> updates, long round)
    {
        var inputs = RobustInputs.Validate(shape, updates, _limits);
        var accepted = inputs.Accepted;
        int n = accepted.Count;
        if (n <= (2 * Byzantine) + 2 || Selected > n)
        {
            return inputs.Failure(string.Create(CultureInfo.InvariantCulture,
                $"{Name} with f = {Byzantine}, m = {Selected} needs n > 2f + 2 and m ≤ n; n = {n}"));
        }

        var chosen = BestScored(accepted);
        var accumulator = new UpdateAccumulator(shape, _limits);
        foreach (int i in chosen)
        {
            accumulator.Accumulate(accepted[i]);
        }

        var picked = accumulator.ToPartial();
        return inputs.Success(picked.Mean.ToArray(), picked.TotalWeight);
    }

    /// <summary>Indices of the <see cref="Selected"/> lowest scores; ties go to the lower index.</summary>
    internal int[] BestScored(List<ClientUpdate> updates)
    {
        int n = updates.Count;
        var squared = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double d = TensorPrimitives.Distance(updates[i].Delta.Span, updates[j].Delta.Span);
                squared[i, j] = squared[j, i] = d * d;
            }
        }

        int closest = Math.Max(1, n - Byzantine - 2);
        var scores = new double[n];
        var row = new double[n - 1];
        for (int i = 0; i < n; i++)
        {
            int c = 0;
            for (int j = 0; j < n; j++)
            {
                if (j != i)
                {
                    row[c++] = squared[i, j];
                }
            }

            Array.Sort(row);
            scores[i] = row.AsSpan(0, closest).ToArray().Sum();
        }

        return Enumerable.Range(0, n).OrderBy(i => scores[i]).ThenBy(i => i).Take(Selected).ToArray();
    }
}
