namespace Totoro.Actors.Planning;

/// <summary>
/// A game seen through one pure profile: each player's cost now, its alternatives, and the cost it would pay if it
/// alone switched to one of them (everybody else keeping their choice).
/// </summary>
internal interface IUnilateralGame
{
    int PlayerCount { get; }

    double Cost(int player);

    int AlternativeCount(int player);

    double DeviationCost(int player, int alternative);
}

/// <summary>
/// How far a profile is from a Nash equilibrium. <see cref="Additive"/> is ε = maxᵢ (cᵢ(s) − min over sᵢ′ of
/// cᵢ(sᵢ′, s₋ᵢ)), clamped at 0: the most any single player could gain by switching alone; the profile is an
/// ε-approximate NE exactly when this is ≤ ε. <see cref="Relative"/> is ε ÷ the mean player cost.
/// <see cref="WorstPlayer"/> is the player achieving it (−1 when nobody can gain);
/// <see cref="ImprovablePlayers"/> counts the players with any strictly positive gain, <see cref="PlayersAboveTarget"/>
/// those that could gain more than <c>target</c> × the mean cost.
/// </summary>
internal readonly record struct NashGap(double Additive, double Relative, double MeanCost, int WorstPlayer, int ImprovablePlayers, int PlayersAboveTarget)
{
    public static NashGap Measure(IUnilateralGame game, double target = 0.05)
    {
        ArgumentNullException.ThrowIfNull(game);
        double epsilon = 0, total = 0;
        int worst = -1, improvable = 0;
        var gains = new double[game.PlayerCount];
        for (var player = 0; player < game.PlayerCount; player++)
        {
            var cost = game.Cost(player);
            total += cost;
            var gain = 0.0;
            for (var alternative = 0; alternative < game.AlternativeCount(player); alternative++)
            {
                gain = Math.Max(gain, cost - game.DeviationCost(player, alternative));
            }

            gains[player] = gain;

            if (gain > 1e-12 * Math.Max(1, Math.Abs(cost)))
            {
                improvable++;
                if (gain > epsilon)
                {
                    epsilon = gain;
                    worst = player;
                }
            }
        }

        var mean = game.PlayerCount == 0 ? 0 : total / game.PlayerCount;
        var above = gains.Count(gain => gain > target * mean);
        return new NashGap(epsilon, mean > 0 ? epsilon / mean : 0, mean, worst, improvable, above);
    }
}
