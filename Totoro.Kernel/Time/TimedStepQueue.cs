namespace Totoro.Kernel;

/// <summary>
/// The world's future steps, popped in (due time, sequence number) order: a 4-ary min-heap of compact keys
/// (due, seq, slot) over a slot array holding the steps themselves. Sequence numbers are unique, so the order is
/// total and exactly the one a <see cref="PriorityQueue{TElement, TPriority}"/> keyed by (due, seq) gives.
/// </summary>
/// <remarks>
/// Why not <see cref="PriorityQueue{TElement, TPriority}"/>: a simulation keeps 10⁶–10⁷ steps pending and runs
/// 10⁸ of them. The heap here moves 24-byte keys holding no references (the GC never scans the heap array, and a
/// node's four children share two cache lines), compares them inline instead of through a tuple comparer, and
/// keeps each step in a slot reused last-freed-first. Not thread-safe: the world's single thread owns it.
/// </remarks>
internal sealed class TimedStepQueue
{
    private Key[] _heap = new Key[64];
    private int _count;
    private WorkItem[] _slots = new WorkItem[64];
    private int _slotsUsed;
    private int[] _free = new int[16];
    private int _freeCount;

    public int Count => _count;

    public void Enqueue(in WorkItem item, long due)
    {
        var slot = TakeSlot();
        _slots[slot] = item;
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }

        SiftUp(_count++, new Key(due, item.Seq, slot));
    }

    /// <summary>The earliest step's due time and sequence number, if any.</summary>
    public bool TryPeek(out long due, out long seq)
    {
        if (_count == 0)
        {
            due = 0;
            seq = 0;
            return false;
        }

        due = _heap[0].Due;
        seq = _heap[0].Seq;
        return true;
    }

    public WorkItem Dequeue()
    {
        if (_count == 0)
        {
            throw new InvalidOperationException("The queue is empty.");
        }

        var slot = _heap[0].Slot;
        var item = _slots[slot];
        _slots[slot] = default;
        ReleaseSlot(slot);
        var last = _heap[--_count];
        if (_count > 0)
        {
            SiftDown(last);
        }

        return item;
    }

    private static bool Before(in Key a, in Key b) => a.Due < b.Due || (a.Due == b.Due && a.Seq < b.Seq);

    private void SiftUp(int index, Key key)
    {
        var heap = _heap;
        while (index > 0)
        {
            var parent = (index - 1) >> 2;
            if (!Before(key, heap[parent]))
            {
                break;
            }

            heap[index] = heap[parent];
            index = parent;
        }

        heap[index] = key;
    }

    /// <summary>Places <paramref name="key"/> (the former last key) starting from the root's hole.</summary>
    private void SiftDown(Key key)
    {
        var heap = _heap;
        var count = _count;
        var index = 0;
        while (true)
        {
            var first = (index << 2) + 1;
            if (first >= count)
            {
                break;
            }

            var best = first;
            var end = Math.Min(first + 4, count);
            for (var child = first + 1; child < end; child++)
            {
                if (Before(heap[child], heap[best]))
                {
                    best = child;
                }
            }

            if (!Before(heap[best], key))
            {
                break;
            }

            heap[index] = heap[best];
            index = best;
        }

        heap[index] = key;
    }

    private int TakeSlot()
    {
        if (_freeCount > 0)
        {
            return _free[--_freeCount];
        }

        if (_slotsUsed == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        return _slotsUsed++;
    }

    private void ReleaseSlot(int slot)
    {
        if (_freeCount == _free.Length)
        {
            Array.Resize(ref _free, _free.Length * 2);
        }

        _free[_freeCount++] = slot;
    }

    private readonly record struct Key(long Due, long Seq, int Slot);
}
