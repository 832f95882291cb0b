using System.Collections.Immutable;

namespace Totoro.Actors.Planning;

/// <summary>A resource with affine latency ℓ(L) = <see cref="Slope"/> · L + <see cref="Offset"/>, L its total load.</summary>
internal readonly record struct AffineResource(double Slope, double Offset)
{
    public double Latency(double load) => (Slope * load) + Offset;
}

/// <summary>
/// A weighted congestion game with affine latencies: player i (weight wᵢ) picks one of its strategies, each a set of
/// resources; the load of a resource is the total weight of the players using it; player i pays Σ over its
/// resources of ℓₑ(Lₑ). With a pure <see cref="Profile"/> it is an <see cref="IUnilateralGame"/>. Such games have
/// a weighted potential (Fotakis, Kontogiannis, Spirakis 2005), hence pure equilibria. Immutable.
/// </summary>
internal sealed record CongestionGame(
    ImmutableArray<AffineResource> Resources,
    ImmutableArray<double> Weights,
    ImmutableArray<ImmutableArray<ImmutableArray<int>>> Strategies,
    ImmutableArray<int> Profile) : IUnilateralGame
{
    public int PlayerCount => Weights.Length;

    public CongestionGame With(int player, int strategy) => this with { Profile = Profile.SetItem(player, strategy) };

    public double[] Loads()
    {
        var loads = new double[Resources.Length];
        for (var player = 0; player < PlayerCount; player++)
        {
            foreach (var resource in Strategies[player][Profile[player]])
            {
                loads[resource] += Weights[player];
            }
        }

        return loads;
    }

    public double Cost(int player) => CostOf(player, Profile[player], Loads());

    /// <summary>Alternatives are the player's other strategies, in order.</summary>
    public int AlternativeCount(int player) => Strategies[player].Length - 1;

    public double DeviationCost(int player, int alternative)
    {
        var strategy = alternative >= Profile[player] ? alternative + 1 : alternative;
        var loads = Loads();
        foreach (var resource in Strategies[player][Profile[player]])
        {
            loads[resource] -= Weights[player];
        }

        foreach (var resource in Strategies[player][strategy])
        {
            loads[resource] += Weights[player];
        }

        return CostOf(player, strategy, loads);
    }

    private double CostOf(int player, int strategy, double[] loads) =>
        Strategies[player][strategy].Sum(resource => Resources[resource].Latency(loads[resource]));
}
