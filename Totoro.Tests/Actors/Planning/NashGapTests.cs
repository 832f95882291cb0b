using System.Collections.Immutable;
using Totoro.Actors.Planning;

namespace Totoro.Tests.Actors.Planning;

[TestFixture]
internal sealed class NashGapTests
{
    /// <summary>Three players choose resource 0 (ℓ = L) or resource 1 (ℓ = 2, load-independent).</summary>
    private static CongestionGame Game(params int[] profile) => new(
        [new AffineResource(1, 0), new AffineResource(0, 2)],
        [1, 1, 1],
        [.. Enumerable.Repeat<ImmutableArray<ImmutableArray<int>>>([[0], [1]], 3)],
        [.. profile]);

    [Test]
    public void All_on_the_congestible_resource_leaves_a_gain_of_one()
    {
        var gap = NashGap.Measure(Game(0, 0, 0));

        Assert.That(gap.Additive, Is.EqualTo(1).Within(1e-12), "each pays 3 and would pay 2 alone on resource 1");
        Assert.That(gap.MeanCost, Is.EqualTo(3).Within(1e-12));
        Assert.That(gap.Relative, Is.EqualTo(1.0 / 3).Within(1e-12));
        Assert.That(gap.ImprovablePlayers, Is.EqualTo(3));
        Assert.That(gap.WorstPlayer, Is.EqualTo(0));
    }

    [Test]
    public void Two_and_one_is_an_exact_equilibrium()
    {
        var gap = NashGap.Measure(Game(0, 0, 1));

        Assert.That(gap.Additive, Is.Zero);
        Assert.That(gap.WorstPlayer, Is.EqualTo(-1));
        Assert.That(gap.ImprovablePlayers, Is.Zero);
    }

    [Test]
    public void Weighted_players_load_resources_by_weight()
    {
        var game = new CongestionGame(
            [new AffineResource(1, 0), new AffineResource(1, 0)],
            [3, 1],
            [[[0], [1]], [[0], [1]]],
            [0, 0]);

        Assert.That(game.Cost(0), Is.EqualTo(4));
        Assert.That(game.DeviationCost(1, 0), Is.EqualTo(1), "the light player alone on resource 1");
        Assert.That(game.DeviationCost(0, 0), Is.EqualTo(3), "the heavy player alone on resource 1");
        Assert.That(NashGap.Measure(game).Additive, Is.EqualTo(3), "the light player gains 4 − 1 = 3");
    }
}
