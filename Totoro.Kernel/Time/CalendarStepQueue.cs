namespace Totoro.Kernel;

/// <summary>
/// The world's future steps, popped in (due time, sequence number) order — exactly the order of a priority queue
/// keyed by (due, seq), since sequence numbers are unique — but built for a simulation's load: 10⁶–10⁷ steps
/// pending (timers of every node) while the steps that run are mostly messages due a few milliseconds ahead.
/// </summary>
/// <remarks>
/// A calendar queue: time is cut into buckets of 2^<see cref="WidthShift"/> ticks (1.6 ms), and the next
/// <see cref="BucketCount"/> buckets (13.4 s) form a ring of chains of 16-entry chunks from one shared pool (so
/// memory follows the steps pending, not each bucket's busiest moment, and a bucket's steps sit together). Scheduling
/// a step into a future bucket appends it to the bucket's last chunk (no heap walk over millions of timers); when the
/// clock reaches a bucket, its steps are copied out, sorted once and read in order. Steps that fall outside the
/// ring — beyond its horizon (e.g. minute-long timers), or into the bucket being read or an earlier one — go to an
/// overflow <see cref="TimedStepQueue"/>; the queue's head is the earlier of the two heads. Not thread-safe: the
/// world's single thread owns it.
/// </remarks>
internal sealed class CalendarStepQueue
{
    internal const int WidthShift = 14;
    internal const int BucketCount = 1 << 13;
    private const long Mask = BucketCount - 1;
    private const int ChunkShift = 4;
    private const int ChunkSize = 1 << ChunkShift;

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly TimedStepQueue _overflow = new();
    private Entry[] _chunks = new Entry[ChunkSize * 64];
    private int[] _chunkNext = new int[64];
    private int _chunksUsed;
    private int _freeChunk = -1;
    private Entry[] _reading = new Entry[256];
    private int _readCount;
    private long _active = -1;
    private int _read;
    private int _bucketed;

    /// <summary>Steps pending in the overflow heap (for tests).</summary>
    internal int OverflowCount => _overflow.Count;

    /// <summary>Steps pending (in buckets, including the unread part of the bucket being read, and in the overflow).</summary>
    public int Count => _bucketed + _overflow.Count;

    public void Enqueue(in WorkItem item, long due)
    {
        var bucketNumber = due >> WidthShift;
        if (_bucketed == 0 && bucketNumber - _active >= BucketCount)
        {
            // The buckets are empty and the clock has moved past their horizon (an idle stretch): re-anchor the ring
            // just before this step's bucket, or every later step would go to the overflow.
            FinishReading();
            _active = bucketNumber - 1;
        }

        if (bucketNumber <= _active || bucketNumber - _active >= BucketCount)
        {
            _overflow.Enqueue(item, due);
            return;
        }

        ref var bucket = ref _buckets[bucketNumber & Mask];
        var offset = bucket.Count & (ChunkSize - 1);
        if (offset == 0)
        {
            var chunk = TakeChunk();
            if (bucket.Count == 0)
            {
                bucket.Head = chunk;
            }
            else
            {
                _chunkNext[bucket.Tail] = chunk;
            }

            bucket.Tail = chunk;
        }

        _chunks[(bucket.Tail << ChunkShift) + offset] = new Entry(due, item);
        bucket.Count++;
        _bucketed++;
    }

    /// <summary>The earliest step's due time and sequence number, if any.</summary>
    public bool TryPeek(out long due, out long seq)
    {
        var fromBuckets = NextBucketed(out var entry);
        var fromOverflow = _overflow.TryPeek(out var overflowDue, out var overflowSeq);
        if (fromBuckets && (!fromOverflow || Before(entry.Due, entry.Item.Seq, overflowDue, overflowSeq)))
        {
            due = entry.Due;
            seq = entry.Item.Seq;
            return true;
        }

        due = overflowDue;
        seq = overflowSeq;
        return fromOverflow;
    }

    public WorkItem Dequeue()
    {
        var fromBuckets = NextBucketed(out var entry);
        if (fromBuckets && (!_overflow.TryPeek(out var overflowDue, out var overflowSeq) || Before(entry.Due, entry.Item.Seq, overflowDue, overflowSeq)))
        {
            _read++;
            _bucketed--;
            return entry.Item;
        }

        return _overflow.Dequeue();
    }

    /// <summary>Takes the earliest step if it is due by <paramref name="maxDue"/>: <see cref="TryPeek"/> and <see cref="Dequeue"/> in one look.</summary>
    public bool TryDequeue(long maxDue, out WorkItem item, out long due)
    {
        var fromBuckets = NextBucketed(out var entry);
        var fromOverflow = _overflow.TryPeek(out var overflowDue, out var overflowSeq);
        if (fromBuckets && (!fromOverflow || Before(entry.Due, entry.Item.Seq, overflowDue, overflowSeq)))
        {
            if (entry.Due <= maxDue)
            {
                _read++;
                _bucketed--;
                item = entry.Item;
                due = entry.Due;
                return true;
            }
        }
        else if (fromOverflow && overflowDue <= maxDue)
        {
            due = overflowDue;
            item = _overflow.Dequeue();
            return true;
        }

        item = default;
        due = 0;
        return false;
    }

    private static bool Before(long due, long seq, long otherDue, long otherSeq) => due < otherDue || (due == otherDue && seq < otherSeq);

    /// <summary>
    /// The next unread step of the buckets: the active bucket's, or, once it is read to the end, the first of the
    /// next non-empty bucket (which becomes active and is sorted).
    /// </summary>
    private bool NextBucketed(out Entry entry)
    {
        if (_read < _readCount)
        {
            entry = _reading[_read];
            return true;
        }

        FinishReading();

        if (_bucketed == 0)
        {
            entry = default;
            return false;
        }

        do
        {
            _active++;
        }
        while (_buckets[_active & Mask].Count == 0);

        Activate(ref _buckets[_active & Mask]);
        entry = _reading[0];
        return true;
    }

    /// <summary>The bucket being read is read to the end: drop its references (the GC would otherwise keep delivered messages alive).</summary>
    private void FinishReading()
    {
        if (_readCount > 0)
        {
            Array.Clear(_reading, 0, _readCount);
            _readCount = 0;
            _read = 0;
        }
    }

    /// <summary>Moves the bucket's steps out of its chunks into the reading array, sorted, and frees the chunks.</summary>
    private void Activate(ref Bucket bucket)
    {
        if (_reading.Length < bucket.Count)
        {
            _reading = new Entry[Math.Max(bucket.Count, _reading.Length * 2)];
        }

        var chunk = bucket.Head;
        for (var copied = 0; copied < bucket.Count; copied += ChunkSize)
        {
            var entries = _chunks.AsSpan(chunk << ChunkShift, Math.Min(ChunkSize, bucket.Count - copied));
            entries.CopyTo(_reading.AsSpan(copied));
            entries.Clear();
            var next = _chunkNext[chunk];
            _chunkNext[chunk] = _freeChunk;
            _freeChunk = chunk;
            chunk = next;
        }

        _readCount = bucket.Count;
        bucket = default;
        _reading.AsSpan(0, _readCount).Sort();
    }

    private int TakeChunk()
    {
        if (_freeChunk >= 0)
        {
            var chunk = _freeChunk;
            _freeChunk = _chunkNext[chunk];
            return chunk;
        }

        if (_chunksUsed == _chunkNext.Length)
        {
            Array.Resize(ref _chunkNext, _chunkNext.Length * 2);
            Array.Resize(ref _chunks, _chunkNext.Length << ChunkShift);
        }

        return _chunksUsed++;
    }

    /// <summary>A bucket's steps in scheduling order: a chain of chunks of <see cref="ChunkSize"/> entries, the last one filling.</summary>
    private struct Bucket
    {
        public int Head;
        public int Tail;
        public int Count;
    }

    private readonly struct Entry(long due, WorkItem item) : IComparable<Entry>
    {
        public readonly long Due = due;
        public readonly WorkItem Item = item;

        public int CompareTo(Entry other) => Due != other.Due ? Due.CompareTo(other.Due) : Item.Seq.CompareTo(other.Item.Seq);
    }
}
