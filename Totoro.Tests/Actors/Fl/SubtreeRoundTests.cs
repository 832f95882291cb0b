using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class SubtreeRoundTests
{
    private static readonly ModelShape Shape = new(42, 8);
    private static readonly Address ChildA = new("totoro", "a", 1);
    private static readonly Address ChildB = new("totoro", "b", 1);

    [Test]
    public void Completes_when_every_child_and_the_own_worker_reported()
    {
        var round = SubtreeRound.Open(3, [ChildA, ChildB], ownWorkerInvited: true, bytesDown: 100);

        (round, _) = round.OnChild(3, ChildA, Partial(1, 2), [], RoundCounters.Zero);
        (round, _) = round.OnOwn(3, Update(0));
        Assert.That(round.IsComplete, Is.False);
        (round, var arrival) = round.OnChild(3, ChildB, null, [], RoundCounters.Zero with { BytesUp = 7 });

        Assert.That((arrival, round.IsComplete), Is.EqualTo((Arrival.Accepted, true)));
        Assert.That(round.Contributors, Is.EquivalentTo(new ulong[] { 0, 1, 2 }));
        Assert.That(round.Counters, Is.EqualTo(new RoundCounters(0, 0, 100, 7)));
    }

    [Test]
    public void Stale_late_and_duplicate_results_are_dropped_and_counted()
    {
        var round = SubtreeRound.Open(3, [ChildA, ChildB], ownWorkerInvited: false, bytesDown: 0);

        (round, var old) = round.OnChild(2, ChildA, Partial(1), [], RoundCounters.Zero);
        (round, var first) = round.OnChild(3, ChildA, Partial(1), [], RoundCounters.Zero);
        (round, var repeat) = round.OnChild(3, ChildA, Partial(1), [], RoundCounters.Zero);
        (round, var overlap) = round.OnChild(3, ChildB, Partial(1, 5), [], RoundCounters.Zero);
        (round, var own) = round.OnOwn(3, Update(9));
        (round, var late) = round.Close().OnChild(3, ChildB, Partial(6), [], RoundCounters.Zero);

        Assert.That(new[] { old, first, repeat, overlap, own, late }, Is.EqualTo(new[]
        {
            Arrival.Stale, Arrival.Accepted, Arrival.Duplicate, Arrival.Duplicate, Arrival.Duplicate, Arrival.Stale,
        }));
        Assert.That((round.Counters.StaleDropped, round.Counters.DuplicatesDropped), Is.EqualTo((2, 3)));
        Assert.That(round.Contributors, Is.EquivalentTo(new ulong[] { 1 }), "the overlapping part is refused whole");
    }

    [Test]
    public void Fold_of_children_and_own_update_is_flat_FedAvg()
    {
        var updates = Enumerable.Range(0, 5).Select(i => Update((ulong)i)).ToArray();
        var round = SubtreeRound.Open(1, [ChildA, ChildB], ownWorkerInvited: true, bytesDown: 0);
        (round, _) = round.OnChild(1, ChildA, Fold(updates[0], updates[1]), [], RoundCounters.Zero);
        (round, _) = round.OnChild(1, ChildB, Fold(updates[2], updates[3]), [], RoundCounters.Zero);
        (round, _) = round.OnOwn(1, updates[4]);

        var folded = round.Fold(new FedAvgRule(AggregationLimits.Default), Shape, AggregationLimits.Default)!;

        var expected = new double[Shape.ElementCount];
        var total = updates.Sum(u => u.Weight);
        foreach (var u in updates)
        {
            for (var i = 0; i < expected.Length; i++)
            {
                expected[i] += u.Weight * u.Delta.Span[i] / total;
            }
        }

        Assert.That(folded.TotalWeight, Is.EqualTo(total));
        Assert.That(folded.Mean.ToArray().Select(v => (double)v), Is.EqualTo(expected).Within(1e-6));
    }

    private static ClientUpdate Update(ulong id)
    {
        var random = new Random((int)id + 1);
        var delta = Enumerable.Range(0, Shape.ElementCount).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        return new ClientUpdate(id, Shape.ArchitectureId, delta, 10 + id);
    }

    private static PartialAggregate Partial(params ulong[] ids) => Fold([.. ids.Select(Update)]);

    private static PartialAggregate Fold(params ClientUpdate[] updates)
    {
        var accumulator = new UpdateAccumulator(Shape, AggregationLimits.Default);
        Assert.That(accumulator.AccumulateBatch(updates), Is.Empty);
        return accumulator.ToPartial();
    }
}
