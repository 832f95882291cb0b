namespace Totoro.Kernel;

/// <summary>
/// Preparing steps ahead on the other cores (<see cref="IPrepareAhead"/>), as a two-stage pipeline. With
/// <see cref="PrepareWindow"/> W set, the world cuts virtual time into windows of W from the first due step on. When
/// it starts running the steps of one window (the current batch), it takes every step due in the next window out of
/// the timed queue (the following batch) and offers their tells' preparations to the <see cref="PrepareCrew"/>; by the
/// time the current window is done, the following one is (mostly) prepared, and the world's thread helps with what
/// is left. Staged steps still run exactly as they would have from the queue: in (due, sequence) order, merged with
/// everything scheduled meanwhile, on the world's thread. Which steps run, in which order and at which times does not
/// depend on the window, only which thread computes an actor's pure part.
/// </summary>
/// <remarks>
/// With W at most half the shortest delay with which a step causes a step for another actor, nothing the current
/// window causes is due in the following one, so the following batch is complete when it is staged. A preparation
/// may run while the same actor handles a message of the current window; <see cref="IPrepareAhead"/> says how the
/// actor stays consistent.
/// </remarks>
public sealed partial class DeterministicWorld
{
    private PrepareBatch _current = new();
    private PrepareBatch _following = new();
    private PrepareCrew? _crew;
    private long _prepareBatch;

    /// <summary>
    /// Virtual-time window of steps prepared ahead together; zero (the default) prepares nothing. Set it to at most
    /// half the shortest delay with which a step can cause another step for a different actor (for simulated nodes:
    /// half the network's one-way latency floor), so that the next window is complete when it is prepared.
    /// </summary>
    public TimeSpan PrepareWindow { get; set; }

    /// <summary>Most steps staged in one window.</summary>
    public int PrepareBatchLimit { get; set; } = 8192;

    /// <summary>Fewest preparations worth offering to other threads; a window with fewer runs without preparing.</summary>
    public int PrepareMinimum { get; set; } = 64;

    /// <summary>Threads that prepare, the world's own included (default: the processor count).</summary>
    public int PrepareParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Messages handed to <see cref="IPrepareAhead.Prepare"/> so far.</summary>
    public long StepsPrepared { get; private set; }

    private int StagedSteps => (_current.Count - _current.Head) + (_following.Count - _following.Head);

    private bool TryPeekLater(out long due, out long seq, out PrepareBatch? source)
    {
        var found = _later.TryPeek(out due, out seq);
        source = null;
        Consider(_current, ref due, ref seq, ref source, ref found);
        Consider(_following, ref due, ref seq, ref source, ref found);
        return found;
    }

    private static void Consider(PrepareBatch batch, ref long due, ref long seq, ref PrepareBatch? source, ref bool found)
    {
        if (batch.IsUsedUp)
        {
            return;
        }

        var batchDue = batch.DueAt(batch.Head);
        var batchSeq = batch.ItemAt(batch.Head).Seq;
        if (!found || batchDue < due || (batchDue == due && batchSeq < seq))
        {
            due = batchDue;
            seq = batchSeq;
            source = batch;
            found = true;
        }
    }

    private WorkItem DequeueLater(PrepareBatch? source) => source is null ? _later.Dequeue() : source.Take();

    /// <summary>The current window is used up: the following one (prepared meanwhile) becomes current, and the one after it is staged.</summary>
    private void AdvanceWindows(long limitTicks)
    {
        (_current, _following) = (_following, _current);
        FinishPreparing(_current);
        var window = PrepareWindow.Ticks;
        if (_current.IsUsedUp)
        {
            if (!_later.TryPeek(out var first, out _) || first > limitTicks)
            {
                return;
            }

            Stage(_current, first + window, limitTicks);
            FinishPreparing(_current);
        }

        Stage(_following, _current.WindowEnd + window, limitTicks);
    }

    private void FinishPreparing(PrepareBatch batch)
    {
        batch.Finish();
        StepsPrepared += batch.Prepared;
    }

    /// <summary>Moves the steps due before <paramref name="windowEnd"/> (and by the limit) into <paramref name="batch"/> and offers their tells for preparation.</summary>
    private void Stage(PrepareBatch batch, long windowEnd, long limitTicks)
    {
        var capacity = Math.Max(1, PrepareBatchLimit);
        batch.Restart(this, capacity, windowEnd, ++_prepareBatch);
        var stepLimit = Math.Min(limitTicks, windowEnd - 1);
        while (batch.Count < capacity && _later.TryDequeue(stepLimit, out var item, out var due))
        {
            batch.Add(item, due);
            if (item.Kind == WorkKind.Tell)
            {
                batch.AddJob(item.Target!, item.Message!, due);
            }
        }

        if (batch.JobCount < Math.Max(1, PrepareMinimum))
        {
            batch.DropJobs();
            return;
        }

        batch.Open();
        (_crew ??= new PrepareCrew(PrepareParallelism - 1)).Publish(batch);
    }

    /// <summary>The actor of <paramref name="cell"/> if it is this world's and prepares now; called by the preparing threads.</summary>
    internal IPrepareAhead? Prepares(ActorCell cell) => IsOwnDeterministic(cell) ? cell.PreparingActor : null;
}
