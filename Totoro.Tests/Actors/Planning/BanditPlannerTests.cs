using Totoro.Actors.Planning;

namespace Totoro.Tests.Actors.Planning;

[TestFixture]
internal sealed class BanditPlannerTests
{
    private static readonly double[] Means = [1.5, 1.0, 2.0];

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void On_a_stationary_bandit_it_settles_on_the_best_arm(int seed)
    {
        var noise = new Random(seed);
        var chosen = PlannerTestKit.PlayBandit(new BanditPlanner(BanditSettings.Default), 300, (_, arm) => Means[arm] + ((noise.NextDouble() - 0.5) * 0.4));

        var lastHundred = chosen.Skip(200).Count(arm => arm == 1);
        Assert.That(lastHundred, Is.GreaterThanOrEqualTo(90), $"seed {seed}: best arm chosen {lastHundred}/100 times at the end");
    }

    [Test]
    public void After_its_link_degrades_it_moves_within_a_bounded_number_of_rounds()
    {
        var noise = new Random(7);
        const int degradeAt = 200;
        var chosen = PlannerTestKit.PlayBandit(
            new BanditPlanner(BanditSettings.Default),
            400,
            (round, arm) => (round >= degradeAt && arm == 1 ? 4.0 : Means[arm]) + ((noise.NextDouble() - 0.5) * 0.4));

        Assert.That(chosen[degradeAt - 1], Is.EqualTo(1), "on the best arm before the change");
        var moved = chosen.FindIndex(degradeAt, arm => arm != 1) - degradeAt;
        Assert.That(moved, Is.InRange(0, 10), "leaves the degraded arm within 10 rounds");
        Assert.That(chosen.Skip(degradeAt + 50).Count(arm => arm == 0), Is.GreaterThanOrEqualTo(120), "mostly on the new best arm (the discounted UCB keeps re-testing)");
    }

    [Test]
    public void Hysteresis_keeps_it_on_one_of_two_nearly_equal_arms()
    {
        var noise = new Random(3);
        var chosen = PlannerTestKit.PlayBandit(new BanditPlanner(BanditSettings.Default), 300, (_, arm) => (arm == 2 ? 3.0 : 1.0 + (arm * 0.01)) + ((noise.NextDouble() - 0.5) * 0.1));

        var switches = chosen.Skip(100).Zip(chosen.Skip(101)).Count(pair => pair.First != pair.Second);
        var withoutHysteresis = PlannerTestKit.PlayBandit(new BanditPlanner(BanditSettings.Default with { Hysteresis = 0 }), 300, (_, arm) => (arm == 2 ? 3.0 : 1.0 + (arm * 0.01)) + ((noise.NextDouble() - 0.5) * 0.1));
        var switchesWithout = withoutHysteresis.Skip(100).Zip(withoutHysteresis.Skip(101)).Count(pair => pair.First != pair.Second);
        Assert.That(switches, Is.LessThan(switchesWithout), "hysteresis damps flapping");
        Assert.That(switches, Is.LessThanOrEqualTo(20));
    }

    [Test]
    public void Settings_name_the_offending_key()
    {
        Assert.That(() => new BanditPlanner(BanditSettings.Default with { Discount = 1.5 }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.planning.bandit.discount"));
        Assert.That(() => new GameTheoreticPlanner(GameSettings.Default with { Inertia = 0 }, new Random(1)), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.planning.game.inertia"));
    }
}
