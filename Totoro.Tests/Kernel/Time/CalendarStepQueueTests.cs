using Totoro.Kernel;

namespace Totoro.Tests.Kernel.Time;

public sealed class CalendarStepQueueTests
{
    private const long Width = 1L << CalendarStepQueue.WidthShift;
    private const long Horizon = Width * CalendarStepQueue.BucketCount;

    [Test]
    public void Equal_due_times_pop_in_sequence_order_across_buckets_and_overflow()
    {
        var queue = new CalendarStepQueue();
        var due = 3 * Width + 5;
        queue.Enqueue(Item(0), due);
        queue.Enqueue(Item(1), due);
        queue.Enqueue(Item(2), Width);                  // an earlier bucket
        Assert.That(queue.Dequeue().Seq, Is.EqualTo(2)); // bucket 1 is now the one being read
        queue.Enqueue(Item(3), due);                     // same due time, still a future bucket
        queue.Enqueue(Item(4), Width + 7);               // the bucket being read: overflow
        queue.Enqueue(Item(5), due + (2 * Horizon));     // beyond the horizon: overflow
        queue.Enqueue(Item(6), due);
        Assert.That(Drain(queue), Is.EqualTo(new long[] { 4, 0, 1, 3, 6, 5 }));
    }

    [Test]
    public void A_bucket_spanning_many_chunks_pops_sorted_and_its_chunks_are_reused()
    {
        var queue = new CalendarStepQueue();
        for (var round = 0; round < 3; round++)
        {
            // 100 steps into one bucket (several 16-entry chunks), due times descending, then drained.
            var bucketStart = (round + 1) * 10 * Width;
            for (var i = 0; i < 100; i++)
            {
                queue.Enqueue(Item((round * 100) + i), bucketStart + Width - 1 - (i / 2));
            }

            var popped = Drain(queue);
            var expected = Enumerable.Range(0, 100).OrderByDescending(i => i / 2).ThenBy(i => i).Select(i => (long)((round * 100) + i));
            Assert.That(popped, Is.EqualTo(expected), $"round {round}");
        }
    }

    [Test]
    public void An_idle_gap_longer_than_the_horizon_keeps_the_order()
    {
        var queue = new CalendarStepQueue();
        queue.Enqueue(Item(0), 10);
        queue.Enqueue(Item(1), 3 * Horizon);
        Assert.That(queue.Dequeue().Seq, Is.EqualTo(0));
        queue.Enqueue(Item(2), 20);
        queue.Enqueue(Item(3), Horizon / 2);
        queue.Enqueue(Item(4), (3 * Horizon) - 1);
        Assert.That(Drain(queue), Is.EqualTo(new long[] { 2, 3, 4, 1 }));
        Assert.That(queue.TryPeek(out _, out _), Is.False);
        Assert.That(queue.Count, Is.Zero);

        // Empty, far past the old horizon: the ring re-anchors, so near-future steps are bucketed again.
        queue.Enqueue(Item(5), (10 * Horizon) + Width);
        queue.Enqueue(Item(6), (10 * Horizon) + (3 * Width));
        queue.Enqueue(Item(7), (10 * Horizon) + 1);
        Assert.That(queue.OverflowCount, Is.EqualTo(1), "only the step before the new anchor's first bucket");
        Assert.That(Drain(queue), Is.EqualTo(new long[] { 7, 5, 6 }));
    }

    /// <summary>As the world uses it: due times never before the last step taken, from "now" to past the horizon.</summary>
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(42)]
    public void A_world_like_schedule_matches_a_reference_priority_queue(int seed) =>
        MatchesReference(seed, (random, now) => now + random.Next(5) switch
        {
            0 => random.Next(0, 3),                            // the same few ticks: ties and the bucket being read
            1 => random.NextInt64(0, 4 * Width),               // a few buckets ahead
            2 => random.NextInt64(0, Horizon / 4),             // well inside the horizon
            3 => random.NextInt64(Horizon - Width, Horizon + Width), // at the horizon's edge
            _ => random.NextInt64(0, 3 * Horizon),             // far beyond it
        });

    /// <summary>Any due time at all (earlier than steps already taken too): the overflow keeps the order.</summary>
    [TestCase(3)]
    [TestCase(11)]
    public void Arbitrary_due_times_match_a_reference_priority_queue(int seed) =>
        MatchesReference(seed, (random, _) => random.NextInt64(0, 2 * Horizon));

    private static void MatchesReference(int seed, Func<Random, long, long> nextDue)
    {
        var random = new Random(seed);
        var queue = new CalendarStepQueue();
        var reference = new PriorityQueue<WorkItem, (long Due, long Seq)>();
        long seq = 0;
        long now = 0;
        for (var round = 0; round < 30_000; round++)
        {
            if (random.Next(2) == 0 || reference.Count == 0)
            {
                // Bursts of scheduling, as a message handler schedules several sends and timers.
                for (var burst = random.Next(1, 4); burst > 0; burst--)
                {
                    var item = new WorkItem(seq++, WorkKind.Tell, target: null, message: null, extra: null);
                    var due = nextDue(random, now);
                    queue.Enqueue(item, due);
                    reference.Enqueue(item, (due, item.Seq));
                }

                continue;
            }

            Assert.That(queue.TryPeek(out var due1, out var seq1), Is.True);
            Assert.That(reference.TryPeek(out _, out var expected), Is.True);
            Assert.That((due1, seq1), Is.EqualTo(expected), $"seed {seed}, round {round}");
            Assert.That(queue.Dequeue().Seq, Is.EqualTo(reference.Dequeue().Seq), $"seed {seed}, round {round}");
            Assert.That(queue.Count, Is.EqualTo(reference.Count));
            now = Math.Max(now, expected.Due);
        }

        while (reference.Count > 0)
        {
            Assert.That(queue.Dequeue().Seq, Is.EqualTo(reference.Dequeue().Seq), $"seed {seed}, drain");
        }

        Assert.That(queue.Count, Is.Zero);
    }

    [Test]
    public void TryDequeue_takes_only_steps_due_by_the_limit_in_pop_order()
    {
        var queue = new CalendarStepQueue();
        queue.Enqueue(Item(0), 2 * Width);
        queue.Enqueue(Item(1), Width);
        Assert.That(queue.Dequeue().Seq, Is.EqualTo(1)); // bucket 1 is being read
        queue.Enqueue(Item(2), Width + 3);               // overflow, due before bucket 2
        queue.Enqueue(Item(3), 2 * Width);
        queue.Enqueue(Item(4), 3 * Horizon);             // beyond the horizon: overflow

        var taken = new List<(long Seq, long Due)>();
        while (queue.TryDequeue(2 * Width, out var item, out var due))
        {
            taken.Add((item.Seq, due));
        }

        Assert.That(taken, Is.EqualTo(new[] { (2L, Width + 3), (0L, 2 * Width), (3L, 2 * Width) }));
        Assert.That(queue.Count, Is.EqualTo(1), "the step beyond the limit stays");
        Assert.That(queue.TryDequeue(3 * Horizon - 1, out _, out _), Is.False);
        Assert.That(queue.TryDequeue(3 * Horizon, out var last, out var lastDue), Is.True);
        Assert.That((last.Seq, lastDue), Is.EqualTo((4L, 3 * Horizon)));
        Assert.That(queue.TryDequeue(long.MaxValue, out _, out _), Is.False);
    }

    private static List<long> Drain(CalendarStepQueue queue)
    {
        var popped = new List<long>();
        while (queue.Count > 0)
        {
            popped.Add(queue.Dequeue().Seq);
        }

        return popped;
    }

    private static WorkItem Item(long seq) => new(seq, WorkKind.Callback, target: null, message: null, extra: null);
}
