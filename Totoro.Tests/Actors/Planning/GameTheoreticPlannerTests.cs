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

        Assert.That(chosen.Take(1), Is.EqualTo(new[] { 0 }), "the first choice is today's (nearest) one");
        Assert.That(chosen.Skip(100), Is.All.EqualTo(1), $"seed {seed}");
        Assert.That(planner.CommittedAt(PlannerTestKit.Point(0)), Is.EqualTo(PlannerTestKit.Arms(3)[1].Id));
    }

    [Test]
    public void Probes_never_change_the_committed_choice()
    {
        var planner = new GameTheoreticPlanner(GameSettings.Default with { Inertia = 1 }, new Random(1));
        var point = PlannerTestKit.Point(0);
        var arms = PlannerTestKit.Arms(3);
        Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[0]));
        planner.Observe(point, arms[0].Id, 10);

        for (var probe = 0; probe < 50; probe++)
        {
            var target = planner.ProbeTarget(point, arms);
            if (target is { } probed)
            {
                Assert.That(probed, Is.Not.EqualTo(arms[0]), "the committed arm is never probed");
                planner.ObserveProbe(point, probed.Id, probed == arms[2] ? 1 : 100);
            }

            Assert.That(planner.CommittedAt(point), Is.EqualTo(arms[0].Id), "probing does not move the committed choice");
            Assert.That(planner.Preferred(point, arms), Is.EqualTo(arms[0]));
        }

        // The next decision takes the freshly verified better response (inertia 1 here).
        Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[2]));
    }

    [Test]
    public void Without_an_observed_round_since_its_last_choice_a_point_does_not_switch()
    {
        var planner = new GameTheoreticPlanner(GameSettings.Default with { Inertia = 1 }, new Random(1));
        var point = PlannerTestKit.Point(0);
        var arms = PlannerTestKit.Arms(2);
        planner.Choose(point, arms);
        planner.Observe(point, arms[0].Id, 10);
        Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[0]), "nothing probed yet");

        // The round after that choice was never observed (the point dropped out of the tree); a probe now is not
        // evidence about the profile it will rejoin.
        Assert.That(planner.ProbeTarget(point, arms), Is.EqualTo(arms[1]));
        planner.ObserveProbe(point, arms[1].Id, 1);
        Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[0]));
        planner.Observe(point, arms[0].Id, 10);
        Assert.That(planner.ProbeTarget(point, arms), Is.EqualTo(arms[1]), "inertia 1: the better-looking alternative is verified");
        planner.ObserveProbe(point, arms[1].Id, 1);
        Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[1]), "after an observed round, the fresh probe counts");
    }

    [Test]
    public void A_gain_below_the_threshold_never_moves_and_a_verified_gain_moves_with_the_inertia_probability()
    {
        const int points = 2000;
        var settings = GameSettings.Default with { Inertia = 0.3, Threshold = 0.05, ProbeDecay = 0 };
        var planner = new GameTheoreticPlanner(settings, new Random(7));
        var arms = PlannerTestKit.Arms(2);
        var small = 0;
        var large = 0;
        for (var player = 0; player < points; player++)
        {
            var point = PlannerTestKit.Point(player);
            planner.Choose(point, arms);
            planner.Observe(point, arms[0].Id, 100);
            var target = planner.ProbeTarget(point, arms);
            Assert.That(target, Is.EqualTo(arms[1]), "a fresh point probes its untried alternative");
            var gainsEnough = player % 2 == 0;
            planner.ObserveProbe(point, arms[1].Id, gainsEnough ? 80 : 96);
            var moved = planner.Choose(point, arms) == arms[1];
            (small, large) = gainsEnough ? (small, large + (moved ? 1 : 0)) : (small + (moved ? 1 : 0), large);
        }

        Assert.That(small, Is.Zero, "a 4 % gain is below δ = 5 %");
        Assert.That(large / (points / 2.0), Is.EqualTo(0.3).Within(0.05), "about p of the verified 20 % gains are taken in one round");
    }

    /// <summary>
    /// Regression (issue #8): a point whose nearest alternative looks a little better, but whom inertia holds back,
    /// used to spend every probe re-verifying that alternative and never tried the much better one next to it.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    public void A_point_that_inertia_holds_back_still_probes_its_other_candidates(int seed)
    {
        var planner = new GameTheoreticPlanner(GameSettings.Default with { Inertia = 0.01, ProbeRate = 1, MinProbeRate = 1 }, new Random(seed));
        var point = PlannerTestKit.Point(0);
        var arms = PlannerTestKit.Arms(4);
        double[] costs = [10, 9, 2, 20];
        var probed = new HashSet<int>();
        for (var round = 0; round < 10; round++)
        {
            var chosen = planner.Choose(point, arms);
            planner.Observe(point, chosen.Id, costs[chosen.Address.Value]);
            if (planner.ProbeTarget(point, arms) is { } target)
            {
                probed.Add(target.Address.Value);
                planner.ObserveProbe(point, target.Id, costs[target.Address.Value]);
            }
        }

        Assert.That(probed, Does.Contain(2), $"seed {seed}: the best response (arm 2) gets probed");
    }

    [Test]
    public void A_stale_pessimistic_estimate_is_probed_again()
    {
        var planner = new GameTheoreticPlanner(GameSettings.Default with { ProbeRate = 1, MinProbeRate = 1 }, new Random(3));
        var point = PlannerTestKit.Point(0);
        var arms = PlannerTestKit.Arms(3);
        planner.Choose(point, arms);
        var probedSlowArm = new List<int>();
        for (var round = 0; round < 200; round++)
        {
            planner.Observe(point, arms[0].Id, 10);
            if (planner.ProbeTarget(point, arms) is { } probed)
            {
                // Arm 1 looked terrible once (early congestion); arm 2 is steadily a little worse than the committed arm.
                planner.ObserveProbe(point, probed.Id, probed == arms[1] ? 40 : 11);
                if (probed == arms[1])
                {
                    probedSlowArm.Add(round);
                }
            }
        }

        Assert.That(probedSlowArm, Has.Count.GreaterThan(2), "retried after its estimate went stale");
        Assert.That(probedSlowArm.Zip(probedSlowArm.Skip(1), (a, b) => b - a).Max(), Is.LessThan(100), "within a bounded interval");
        Assert.That(probedSlowArm, Has.Count.LessThan(60), "but far less often than the plausible arm");
    }

    /// <summary>
    /// An alternative probed once at 40 (early congestion) and, 70 observed rounds later, at 9 against a committed
    /// cost of 10. The old reading describes another profile: the estimate must follow the fresh one, so the
    /// verified better response is taken. With the old reading averaged in at full weight the estimate was 24.5
    /// and the point stayed put (sim planning seed 1 on the session-4 ring: ε stuck at 10.9 % for 170 rounds).
    /// </summary>
    [Test]
    public void A_fresh_probe_outweighs_a_reading_from_long_ago()
    {
        var planner = new GameTheoreticPlanner(GameSettings.Default with { Inertia = 1 }, new Random(5));
        var point = PlannerTestKit.Point(0);
        var arms = PlannerTestKit.Arms(2);
        Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[0]));
        planner.Observe(point, arms[0].Id, 10);
        planner.ObserveProbe(point, arms[1].Id, 40);
        for (var round = 0; round < 70; round++)
        {
            Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[0]), "arm 1 looks 4× worse");
            planner.Observe(point, arms[0].Id, 10);
        }

        Assert.That(planner.ProbeTarget(point, arms), Is.EqualTo(arms[1]), "the only alternative (inertia 1: the point may move)");
        planner.ObserveProbe(point, arms[1].Id, 9);
        Assert.That(planner.Choose(point, arms), Is.EqualTo(arms[1]), "the fresh 10 % gain is taken");
    }

    /// <summary>
    /// Eight unit players choose resource A (ℓ = L) or B (ℓ = L + 2). The unique equilibrium load is (5, 3):
    /// a player on A pays 5 and would pay 3 + 1 + 2 = 6 on B; one on B pays 5 and would pay 6 on A. Every player
    /// starts on A (the nearest arm), so the start has ε = 8 − 3 = 5.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void Players_in_a_small_congestion_game_reach_its_equilibrium_in_bounded_rounds(int seed)
    {
        var game = PlayCongestionGame(seed, players: 8, [new AffineResource(1, 0), new AffineResource(1, 2)], rounds: 200, out var epsilons);

        Assert.That(game.Loads(), Is.EqualTo(new[] { 5.0, 3.0 }), $"seed {seed}: final loads");
        Assert.That(epsilons[0], Is.EqualTo(5.0), "the start is not an equilibrium");
        // Simultaneous moves on probes of the previous round can overshoot, so ε is not monotone; it must reach 0
        // for good within a bounded number of rounds, after which the (still running) probes do not perturb it.
        var settled = epsilons.FindLastIndex(epsilon => epsilon > 0) + 1;
        Assert.That(settled, Is.InRange(1, 100), $"seed {seed}: rounds until ε = 0 for good");
    }

    /// <summary>
    /// 30 players with weights 1–3 on three resources ℓ = L, 2L + 1, L + 4: a weighted congestion game with a
    /// weighted potential, so ε-better responses with inertia end in an ε-equilibrium; ε is checked, not assumed.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    public void Weighted_players_end_within_the_threshold_of_an_equilibrium(int seed)
    {
        var game = PlayCongestionGame(seed, players: 30, [new AffineResource(1, 0), new AffineResource(2, 1), new AffineResource(1, 4)], rounds: 300, out var epsilons, weighted: true);

        var finalGap = NashGap.Measure(game);
        Assert.That(epsilons[0], Is.GreaterThan(20), "the start (everyone on the first resource) is far from equilibrium");
        Assert.That(finalGap.Relative, Is.LessThanOrEqualTo(0.05), $"seed {seed}: ε ≤ 5 % of the mean cost");
        Assert.That(epsilons.Skip(150), Is.All.EqualTo(epsilons[^1]), "the profile has settled");
    }

    private static CongestionGame PlayCongestionGame(int seed, int players, ImmutableArray<AffineResource> resources, int rounds, out List<double> epsilons, bool weighted = false)
    {
        ImmutableArray<ImmutableArray<int>> strategies = [.. Enumerable.Range(0, resources.Length).Select(r => ImmutableArray.Create(r))];
        var planner = new GameTheoreticPlanner(GameSettings.Default, new Random(seed));
        var arms = PlannerTestKit.Arms(resources.Length);
        var weights = Enumerable.Range(0, players).Select(player => weighted ? 1.0 + (player % 3) : 1.0).ToImmutableArray();
        var game = new CongestionGame(resources, weights, [.. Enumerable.Repeat(strategies, players)], [.. Enumerable.Repeat(0, players)]);
        epsilons = [];
        for (var round = 0; round < rounds; round++)
        {
            var profile = Enumerable.Range(0, players).Select(player => planner.Choose(PlannerTestKit.Point(player), arms).Address.Value).ToImmutableArray();
            game = game with { Profile = profile };
            epsilons.Add(NashGap.Measure(game).Additive);
            for (var player = 0; player < players; player++)
            {
                var point = PlannerTestKit.Point(player);
                planner.Observe(point, arms[profile[player]].Id, game.Cost(player));
                if (planner.ProbeTarget(point, arms) is { } probed)
                {
                    var strategy = probed.Address.Value;
                    planner.ObserveProbe(point, probed.Id, game.DeviationCost(player, strategy > profile[player] ? strategy - 1 : strategy));
                }
            }
        }

        return game;
    }
}
