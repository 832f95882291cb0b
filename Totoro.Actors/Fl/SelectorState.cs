using System.Collections.Immutable;

namespace Totoro.Actors.Fl;

/// <summary>
/// Chooses a round's workers: ⌈K × over-selection⌉ of the available ones, uniformly without replacement, from a
/// generator seeded by (app seed, app name, round). A worker that missed a round is skipped for
/// <see cref="CooldownRounds"/> rounds (it is probably down), then tried again. Immutable.
/// </summary>
internal sealed record SelectorState(int WorkerCount, int CooldownRounds, ImmutableSortedDictionary<int, long> DownUntilRound)
{
    public static SelectorState Create(int workerCount, int cooldownRounds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workerCount);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldownRounds);
        return new SelectorState(workerCount, cooldownRounds, ImmutableSortedDictionary<int, long>.Empty);
    }

    public bool IsAvailable(int worker, long round) => !DownUntilRound.TryGetValue(worker, out var until) || round > until;

    /// <summary>The invited workers of <paramref name="round"/>, ascending.</summary>
    public ImmutableArray<int> Select(int appSeed, string app, long round, int clientsPerRound, double overSelection)
    {
        var candidates = Enumerable.Range(0, WorkerCount).Where(w => IsAvailable(w, round)).ToArray();
        var invite = Math.Min(candidates.Length, (int)Math.Ceiling(clientsPerRound * overSelection - 1e-9));
        var random = new Random(FlSeeds.Derive(appSeed, app, round));
        for (var i = 0; i < invite; i++)
        {
            var j = i + random.Next(candidates.Length - i);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }

        return [.. candidates.Take(invite).Order()];
    }

    /// <summary>Workers that did not deliver in <paramref name="round"/> sit out the next <see cref="CooldownRounds"/>.</summary>
    public SelectorState MarkMissing(IEnumerable<int> workers, long round) =>
        this with { DownUntilRound = DownUntilRound.SetItems(workers.Select(w => KeyValuePair.Create(w, round + CooldownRounds))) };

    public SelectorState MarkDelivered(IEnumerable<int> workers) => this with { DownUntilRound = DownUntilRound.RemoveRange(workers) };
}
