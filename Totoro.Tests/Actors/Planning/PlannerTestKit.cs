using System.Collections.Immutable;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Planning;

/// <summary>Fake candidates and decision points for planner tests: arm k has id k+1, address k, RTT 1 ms + k µs.</summary>
internal static class PlannerTestKit
{
    public static ImmutableArray<PeerEntry> Arms(int count) =>
        [.. Enumerable.Range(0, count).Select(k => new PeerEntry(new NodeId((UInt128)(k + 1)), new NodeAddress(k), 1000u + (uint)k))];

    public static DecisionPoint Point(int player) => new(new NodeId((UInt128)(1000 + player)), NodeId.FromName("flow"));

    /// <summary>
    /// Plays <paramref name="rounds"/> rounds of a single-player bandit (a probing planner also probes after each
    /// round, reading the probed arm's cost); returns the arm index chosen each round.
    /// </summary>
    public static List<int> PlayBandit(IPathPlanner planner, int rounds, Func<int, int, double> costOf, int arms = 3)
    {
        var candidates = Arms(arms);
        var point = Point(0);
        var chosen = new List<int>();
        for (var round = 0; round < rounds; round++)
        {
            var arm = planner.Choose(point, candidates).Address.Value;
            chosen.Add(arm);
            planner.Observe(point, candidates[arm].Id, costOf(round, arm));
            if (planner is IProbingPlanner prober && prober.ProbeTarget(point, candidates) is { } probed)
            {
                prober.ObserveProbe(point, probed.Id, costOf(round, probed.Address.Value));
            }
        }

        return chosen;
    }
}
