namespace Totoro.Kernel;

/// <summary>
/// One window of timed steps taken out of the queue ahead of time, with the preparations (<see cref="IPrepareAhead"/>)
/// of its tells. The world's thread fills it and runs its steps; the <see cref="PrepareCrew"/> and the world's thread
/// claim its tells one at a time and prepare those whose actor prepares (the world's thread only copies steps: every
/// look at a cell, which at 10⁶ actors is a cache miss, happens on the claiming thread).
/// </summary>
/// <remarks>
/// Claims carry the batch's generation in their upper 32 bits, so a crew thread that arrives late, after the batch
/// was refilled for another window, finds a different generation and leaves without touching it. The world refills a
/// batch only when every claimed preparation of the previous generation is done.
/// </remarks>
internal sealed class PrepareBatch
{
    private const long Closed = int.MaxValue;

    private WorkItem[] _items = [];
    private long[] _due = [];
    private (object Target, object Message, long Timestamp)[] _jobs = [];
    private DeterministicWorld? _world;
    private long _claim = Closed;
    private int _done;
    private int _prepared;
    private int _generation;
    private long _mark;

    public int Head { get; set; }

    public int Count { get; private set; }

    public int JobCount { get; private set; }

    /// <summary>The end (exclusive) of the virtual-time window this batch was staged for.</summary>
    public long WindowEnd { get; private set; }

    public bool IsUsedUp => Head == Count;

    public int Generation => _generation;

    public long DueAt(int index) => _due[index];

    public ref readonly WorkItem ItemAt(int index) => ref _items[index];

    public WorkItem Take()
    {
        var item = _items[Head];
        _items[Head++] = default;
        return item;
    }

    /// <summary>Tells whose actors prepared (counted as their preparations finish).</summary>
    public int Prepared => Volatile.Read(ref _prepared);

    /// <summary>
    /// Starts a new generation for the window ending at <paramref name="windowEnd"/>, with <paramref name="mark"/> (unique
    /// per window) marking the cells chosen; late crew threads are shut out first.
    /// </summary>
    public void Restart(DeterministicWorld world, int capacity, long windowEnd, long mark)
    {
        _generation++;
        Volatile.Write(ref _claim, ((long)_generation << 32) | Closed);
        _world = world;
        _mark = mark;
        _prepared = 0;
        if (_items.Length < capacity)
        {
            _items = new WorkItem[capacity];
            _due = new long[capacity];
            _jobs = new (object, object, long)[capacity];
        }
        else
        {
            Array.Clear(_jobs, 0, JobCount);
        }

        Head = 0;
        Count = 0;
        JobCount = 0;
        _done = 0;
        WindowEnd = windowEnd;
    }

    public void Add(in WorkItem item, long due)
    {
        _due[Count] = due;
        _items[Count++] = item;
    }

    public void AddJob(object target, object message, long timestamp) => _jobs[JobCount++] = (target, message, timestamp);

    /// <summary>Drops the jobs (too few to be worth preparing); the steps stay.</summary>
    public void DropJobs()
    {
        Array.Clear(_jobs, 0, JobCount);
        JobCount = 0;
    }

    /// <summary>Opens the jobs to claims (after they are all written).</summary>
    public void Open() => Volatile.Write(ref _claim, (long)_generation << 32);

    /// <summary>Claims and runs preparations of generation <paramref name="generation"/> until none is left.</summary>
    public void Work(int generation)
    {
        while (true)
        {
            var claim = Volatile.Read(ref _claim);
            var index = (int)(claim & 0xFFFF_FFFF);
            if ((int)(claim >> 32) != generation || index >= JobCount)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim)
            {
                continue;
            }

            var job = _jobs[index];
            try
            {
                // One preparation per actor and window, its first tell's: a second tell depends on the first.
                if (job.Target is ActorCell cell && Interlocked.Exchange(ref cell.PrepareMark, _mark) != _mark &&
                    _world!.Prepares(cell) is { } actor)
                {
                    actor.Prepare(job.Message, job.Timestamp);
                    Interlocked.Increment(ref _prepared);
                }
            }
#pragma warning disable CA1031 // the contract: a failing preparation is dropped; the delivery recomputes and fails under supervision
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            Interlocked.Increment(ref _done);
        }
    }

    /// <summary>Helps until no job is left unclaimed, then waits for the ones other threads are still running.</summary>
    public void Finish()
    {
        if (JobCount == 0)
        {
            return;
        }

        Work(_generation);
        var spin = default(SpinWait);
        while (Volatile.Read(ref _done) < JobCount)
        {
            spin.SpinOnce();
        }
    }
}
