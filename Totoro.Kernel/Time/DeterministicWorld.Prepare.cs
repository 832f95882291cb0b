namespace Totoro.Kernel;

/// <summary>
/// Preparing steps ahead on the other cores (<see cref="IPrepareAhead"/>). When the world is about to take a timed
/// step and <see cref="PrepareWindow"/> is set, it first moves every step due within the window (at most
/// <see cref="PrepareBatchLimit"/>) from the timed queue into a staging buffer and has each tell's actor prepare its
/// message in parallel, one actor at a time. The staged steps then run exactly as they would have from the queue: in
/// (due, sequence) order, merged with everything scheduled meanwhile, on the world's thread. Which steps run, in
/// which order and at which times does not depend on the window, only which thread computes an actor's pure part.
/// </summary>
public sealed partial class DeterministicWorld
{
    private long _prepareBatch;
    private (IPrepareAhead Actor, object Message, long Timestamp)[] _prepareJobs = [];

    /// <summary>
    /// Virtual-time window of steps prepared ahead together; zero (the default) prepares nothing. Set it below the
    /// shortest delay with which a step can cause another step for a different actor (for simulated nodes: the
    /// network's one-way latency floor), so that preparations are rarely invalidated by what the window itself causes.
    /// </summary>
    public TimeSpan PrepareWindow { get; set; }

    /// <summary>Most steps staged and prepared at once.</summary>
    public int PrepareBatchLimit { get; set; } = 8192;

    /// <summary>Fewest preparations worth a parallel pass; smaller batches are delivered without preparing.</summary>
    public int PrepareMinimum { get; set; } = 64;

    /// <summary>Threads a prepare pass uses, the world's own included (default: the processor count).</summary>
    public int PrepareParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Messages handed to <see cref="IPrepareAhead.Prepare"/> so far.</summary>
    public long StepsPrepared { get; private set; }

    private bool TryPeekLater(out long due, out long seq, out bool staged)
    {
        var fromLater = _later.TryPeek(out due, out seq);
        if (_stagedHead < _stagedCount)
        {
            var stagedDue = _stagedDue[_stagedHead];
            var stagedSeq = _staged[_stagedHead].Seq;
            if (!fromLater || stagedDue < due || (stagedDue == due && stagedSeq < seq))
            {
                due = stagedDue;
                seq = stagedSeq;
                staged = true;
                return true;
            }
        }

        staged = false;
        return fromLater;
    }

    private WorkItem DequeueLater(bool staged)
    {
        if (!staged)
        {
            return _later.Dequeue();
        }

        var item = _staged[_stagedHead];
        _staged[_stagedHead++] = default;
        return item;
    }

    private void StageAndPrepare(long limitTicks)
    {
        if (!_later.TryPeek(out var first, out _) || first > limitTicks)
        {
            return;
        }

        var end = Math.Min(limitTicks, first + PrepareWindow.Ticks);
        var limit = Math.Max(1, PrepareBatchLimit);
        if (_staged.Length < limit)
        {
            _staged = new WorkItem[limit];
            _stagedDue = new long[limit];
            _prepareJobs = new (IPrepareAhead, object, long)[limit];
        }

        _stagedHead = 0;
        _stagedCount = 0;
        while (_stagedCount < limit && _later.TryPeek(out var due, out _) && due <= end)
        {
            _stagedDue[_stagedCount] = due;
            _staged[_stagedCount++] = _later.Dequeue();
        }

        Prepare();
    }

    /// <summary>One preparation per actor (its first staged tell): a later tell to the same actor depends on the first.</summary>
    private void Prepare()
    {
        var batch = ++_prepareBatch;
        var jobs = 0;
        for (var i = 0; i < _stagedCount; i++)
        {
            ref readonly var item = ref _staged[i];
            if (item.Kind == WorkKind.Tell && item.Target is ActorCell cell && cell.PrepareBatch != batch)
            {
                cell.PrepareBatch = batch;
                if (IsOwnDeterministic(cell) && cell.PreparingActor is { } actor)
                {
                    _prepareJobs[jobs++] = (actor, item.Message!, _stagedDue[i]);
                }
            }
        }

        if (jobs >= Math.Max(1, PrepareMinimum))
        {
            var all = _prepareJobs;
            Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, PrepareParallelism) }, index => PrepareOne(all[index]));
            StepsPrepared += jobs;
        }

        Array.Clear(_prepareJobs, 0, jobs);
    }

    private static void PrepareOne((IPrepareAhead Actor, object Message, long Timestamp) job)
    {
        try
        {
            job.Actor.Prepare(job.Message, job.Timestamp);
        }
#pragma warning disable CA1031 // the contract: a failing preparation is dropped; the delivery recomputes and fails under supervision
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
