using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Ml.Aggregation;

public class RobustRuleTests
{
    private const int Length = 50;

    [FsCheck.NUnit.Property(Replay = "20261121,11", MaxTest = 30)]
    public void Trimmed_mean_bounds_one_huge_outliers_influence(int seed)
    {
        var rng = new Random(seed);
        var honest = Honest(rng, 9);
        var attacked = honest.Append(new ClientUpdate(666, Fixtures.Architecture, Enumerable.Repeat(1e30f, Length).ToArray(), 1)).ToList();

        var result = new TrimmedMeanRule(AggregationLimits.Default, beta: 0.1).Aggregate(Fixtures.Shape(Length), attacked, 1);

        Assert.That(result.Succeeded, Is.True);
        // Each coordinate stays inside the honest values' range: the outlier was trimmed, not averaged in.
        var delta = result.Delta.Span;
        for (int i = 0; i < Length; i++)
        {
            var column = honest.Select(u => u.Delta.Span[i]).ToList();
            Assert.That(delta[i], Is.InRange(column.Min(), column.Max()));
        }
    }

    [Test]
    public void Trimmed_mean_matches_a_sorted_reference()
    {
        var rng = new Random(21);
        var updates = Honest(rng, 10);

        var result = new TrimmedMeanRule(AggregationLimits.Default, beta: 0.2).Aggregate(Fixtures.Shape(Length), updates, 1);

        for (int i = 0; i < Length; i++)
        {
            var sorted = updates.Select(u => (double)u.Delta.Span[i]).Order().Skip(2).Take(6).ToList();
            Assert.That(result.Delta.Span[i], Is.EqualTo(sorted.Average()).Within(1e-6));
        }
    }

    [FsCheck.NUnit.Property(Replay = "20261121,13", MaxTest = 30)]
    public void Median_stays_with_the_honest_majority_under_f_outliers(int seed)
    {
        var rng = new Random(seed);
        int byzantine = 1 + rng.Next(4);
        var honest = Honest(rng, (2 * byzantine) + 1);
        var all = honest.Concat(Attackers(rng, byzantine)).OrderBy(_ => rng.Next()).ToList();

        var result = new CoordinateMedianRule(AggregationLimits.Default).Aggregate(Fixtures.Shape(Length), all, 1);

        for (int i = 0; i < Length; i++)
        {
            var column = honest.Select(u => u.Delta.Span[i]).ToList();
            Assert.That(result.Delta.Span[i], Is.InRange(column.Min(), column.Max()));
        }
    }

    [Test]
    public void Median_of_an_even_count_averages_the_two_middle_values()
    {
        float[][] rows = [[1, 10], [4, -2], [2, 0], [100, 3]];
        var updates = rows.Select((r, i) => new ClientUpdate((ulong)i + 1, Fixtures.Architecture, r, 1)).ToList();

        var result = new CoordinateMedianRule(AggregationLimits.Default).Aggregate(Fixtures.Shape(2), updates, 1);

        Assert.That(result.Delta.ToArray(), Is.EqualTo(new float[] { 3, 1.5f }));
    }

    [FsCheck.NUnit.Property(Replay = "20261121,15", MaxTest = 30)]
    public void Krum_picks_an_honest_update_and_multi_krum_only_honest_ones(int seed)
    {
        var rng = new Random(seed);
        int byzantine = 1 + rng.Next(3);
        var honest = Honest(rng, (2 * byzantine) + 3);
        var all = honest.Concat(Attackers(rng, byzantine)).OrderBy(_ => rng.Next()).ToList();
        var honestIds = honest.Select(u => u.ContributorId).ToHashSet();

        var krum = new KrumRule(AggregationLimits.Default, byzantine);
        var multi = new KrumRule(AggregationLimits.Default, byzantine, selected: honest.Count - 1);
        var chosen = krum.BestScored(all);
        var chosenMany = multi.BestScored(all);
        var result = krum.Aggregate(Fixtures.Shape(Length), all, 1);

        Assert.That(honestIds, Does.Contain(all[chosen[0]].ContributorId));
        Assert.That(chosenMany.Select(i => all[i].ContributorId), Is.SubsetOf(honestIds));
        Assert.That(result.Delta.ToArray(), Is.EqualTo(all[chosen[0]].Delta.ToArray()));
    }

    [Test]
    public void Robust_rules_fail_loudly_when_preconditions_do_not_hold()
    {
        var updates = Honest(new Random(3), 4);

        var krum = new KrumRule(AggregationLimits.Default, byzantine: 1).Aggregate(Fixtures.Shape(Length), updates, 1);
        var trimmed = new TrimmedMeanRule(AggregationLimits.Default, beta: 0.2).Aggregate(Fixtures.Shape(Length), [], 1);
        var median = new CoordinateMedianRule(AggregationLimits.Default).Aggregate(Fixtures.Shape(Length + 1), updates, 1);

        Assert.That(krum.Succeeded, Is.False);
        Assert.That(krum.Error, Does.Contain("n > 2f + 2"));
        Assert.That(trimmed.Succeeded, Is.False);
        Assert.That(median.Succeeded, Is.False, "every update has the wrong length");
        Assert.That(median.Rejected, Has.Count.EqualTo(4));
        Assert.That(() => new TrimmedMeanRule(AggregationLimits.Default, 0.5), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Robust_rules_reject_non_finite_updates_before_ranking()
    {
        var updates = Honest(new Random(4), 5);
        var poisoned = Fixtures.RandomVector(new Random(5), Length);
        poisoned[0] = float.NaN;
        updates.Add(new ClientUpdate(77, Fixtures.Architecture, poisoned, 1));

        foreach (IAggregationRule rule in new IAggregationRule[]
        {
            new CoordinateMedianRule(AggregationLimits.Default),
            new TrimmedMeanRule(AggregationLimits.Default),
            new KrumRule(AggregationLimits.Default, 1),
        })
        {
            var result = rule.Aggregate(Fixtures.Shape(Length), updates, 1);
            Assert.That(result.Succeeded, Is.True, rule.Name);
            Assert.That(rule.IsFoldable, Is.False);
            Assert.That(result.ContributorCount, Is.EqualTo(5), rule.Name);
            Assert.That(result.Rejected.Single().Reason, Is.EqualTo(RejectionReason.NonFiniteValue), rule.Name);
            Assert.That(float.IsFinite(result.Delta.Span[0]), Is.True, rule.Name);
        }
    }

    /// <summary>Honest updates cluster around a common direction with small noise.</summary>
    private static List<ClientUpdate> Honest(Random rng, int count)
    {
        var center = Fixtures.RandomVector(rng, Length);
        return Enumerable.Range(0, count).Select(i =>
        {
            var v = Fixtures.RandomVector(rng, Length, 0.1f);
            System.Numerics.Tensors.TensorPrimitives.Add(v, center, v);
            return new ClientUpdate((ulong)(i + 1), Fixtures.Architecture, v, rng.Next(1, 100));
        }).ToList();
    }

    private static IEnumerable<ClientUpdate> Attackers(Random rng, int count) =>
        Enumerable.Range(0, count).Select(i =>
            new ClientUpdate((ulong)(1000 + i), Fixtures.Architecture, Fixtures.RandomVector(rng, Length, 1e4f), 99));
}
