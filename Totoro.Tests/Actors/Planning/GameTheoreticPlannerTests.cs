using System.Collections.Immutable;
using Totoro.Actors.Planning;

namespace Totoro.Tests.Actors.Planning;

[TestFixture]
internal sealed class GameTheoreticPlannerTests
{
    [TestCase(1)]
    [TestCase(2)]
    public void On_a_stationary_bandit_it_settles_on_the_best_arm(int seed)
    {
        var noise = new Random(seed);
        double[] means = [1.5, 1.0, 2.0];
        var planner = new GameTheoreticPlanner(GameSettings.Default, new Random(seed));
        var chosen = PlannerTestKit.PlayBandit(planner, 300, (_, arm) => means[arm] + ((noise.NextDouble() - 0.5) * 0.4));

        Assert.That(chosen.Skip(200).Count(arm => arm == 1), Is.GreaterThanOrEqualTo(95), $"seed {seed}");
        Assert.That(planner.Distribution(PlannerTestKit.Point(0), PlannerTestKit.Arms(3))[1], Is.GreaterThan(0.99), "the distribution has concentrated");
    }

    /// <summary>
    /// Eight unit players choose resource A (ℓ = L) or B (ℓ = L + 2). The unique equilibrium load is (5, 3):
    /// a player on A pays 5 and would pay 3 + 1 + 2 = 6 on B; one on B pays 5 and would pay 6 on A.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void Learners_in_a_small_congestion_game_reach_its_equilibrium(int seed)
    {
        const int players = 8;
        var resources = ImmutableArray.Create(new AffineResource(1, 0), new AffineResource(1, 2));
        ImmutableArray<ImmutableArray<int>> strategies = [[0], [1]];
        var planner = new GameTheoreticPlanner(GameSettings.Default, new Random(seed));
        var arms = PlannerTestKit.Arms(2);
        var epsilons = new List<double>();
        var game = new CongestionGame(resources, [.. Enumerable.Repeat(1.0, players)], [.. Enumerable.Repeat(strategies, players)], [.. Enumerable.Repeat(0, players)]);
        for (var round = 0; round < 300; round++)
        {
            var profile = Enumerable.Range(0, players).Select(player => planner.Choose(PlannerTestKit.Point(player), arms).Address.Value).ToImmutableArray();
            game = game with { Profile = profile };
            for (var player = 0; player < players; player++)
            {
                planner.Observe(PlannerTestKit.Point(player), arms[profile[player]].Id, game.Cost(player));
            }

            epsilons.Add(NashGap.Measure(game).Additive);
        }

        Assert.That(game.Loads(), Is.EqualTo(new[] { 5.0, 3.0 }), $"seed {seed}: final loads");
        Assert.That(epsilons.Skip(250).Average(), Is.LessThan(0.1), $"seed {seed}: ε over the last 50 rounds");
        Assert.That(epsilons.Take(20).Max(), Is.GreaterThan(0), "the start is not an equilibrium");
    }
}
