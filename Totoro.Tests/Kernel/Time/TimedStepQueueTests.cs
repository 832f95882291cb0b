using Totoro.Kernel;

namespace Totoro.Tests.Kernel.Time;

public sealed class TimedStepQueueTests
{
    [Test]
    public void Equal_due_times_pop_in_sequence_order()
    {
        var queue = new TimedStepQueue();
        // Sequence numbers scheduled out of order, all due at the same time.
        foreach (var seq in new long[] { 5, 1, 9, 3, 7, 2, 8, 0, 6, 4 })
        {
            queue.Enqueue(Item(seq), due: 100);
        }

        var popped = new List<long>();
        while (queue.Count > 0)
        {
            popped.Add(queue.Dequeue().Seq);
        }

        Assert.That(popped, Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
    }

    [Test]
    public void Earlier_due_time_wins_over_lower_sequence_number()
    {
        var queue = new TimedStepQueue();
        queue.Enqueue(Item(1), due: 20);
        queue.Enqueue(Item(2), due: 10);
        Assert.That(queue.TryPeek(out var due, out var seq), Is.True);
        Assert.That((due, seq), Is.EqualTo((10L, 2L)));
        Assert.That(queue.Dequeue().Seq, Is.EqualTo(2));
        Assert.That(queue.Dequeue().Seq, Is.EqualTo(1));
        Assert.That(queue.TryPeek(out _, out _), Is.False);
        Assert.Throws<InvalidOperationException>(() => queue.Dequeue());
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(42)]
    public void Interleaved_schedule_and_pop_match_a_reference_priority_queue(int seed)
    {
        var random = new Random(seed);
        var queue = new TimedStepQueue();
        var reference = new PriorityQueue<WorkItem, (long Due, long Seq)>();
        long seq = 0;
        for (var round = 0; round < 20_000; round++)
        {
            // Bursts of scheduling and popping so the heap grows past its initial arrays, shrinks and reuses slots;
            // due times from a small range so many are equal.
            var schedule = random.Next(3) > 0 || queue.Count == 0;
            if (schedule)
            {
                var item = new WorkItem(seq++, WorkKind.Tell, target: seq, message: null, extra: null);
                var due = random.Next(0, 200);
                queue.Enqueue(item, due);
                reference.Enqueue(item, (due, item.Seq));
                continue;
            }

            Assert.That(queue.TryPeek(out var peekDue, out var peekSeq), Is.True);
            Assert.That(reference.TryPeek(out _, out var expected), Is.True);
            Assert.That((peekDue, peekSeq), Is.EqualTo(expected), $"seed {seed}, round {round}");
            var popped = queue.Dequeue();
            var wanted = reference.Dequeue();
            Assert.That(popped.Seq, Is.EqualTo(wanted.Seq), $"seed {seed}, round {round}");
            Assert.That(popped.Target, Is.SameAs(wanted.Target));
            Assert.That(queue.Count, Is.EqualTo(reference.Count));
        }

        while (reference.Count > 0)
        {
            Assert.That(queue.Dequeue().Seq, Is.EqualTo(reference.Dequeue().Seq), $"seed {seed}, drain");
        }

        Assert.That(queue.Count, Is.Zero);
    }

    private static WorkItem Item(long seq) => new(seq, WorkKind.Callback, target: null, message: null, extra: null);
}
