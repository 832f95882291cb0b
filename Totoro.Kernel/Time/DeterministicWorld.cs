namespace Totoro.Kernel;

/// <summary>
/// One thread, one virtual clock, one seeded random, shared by any number of actor systems (nodes). Every delivery,
/// timer and transport hop is a step ordered by (virtual time, sequence number), so a run is a pure function of the
/// seed and the inputs. Drive it from the test/simulation thread with <see cref="RunUntilIdle"/>,
/// <see cref="Advance"/> and <see cref="RunUntil(Func{bool}, TimeSpan)"/>; it is not thread-safe.
/// </summary>
public sealed partial class DeterministicWorld
{
    private readonly Queue<WorkItem> _now = new();
    private readonly CalendarStepQueue _later = new();
    private readonly DeterministicDispatcher _dispatcher;
    private long _seq;
    private long _elapsedTicks;

    public DeterministicWorld(int seed, DateTimeOffset? epoch = null)
    {
        Seed = seed;
        Random = new Random(seed);
        Time = new VirtualTimeProvider(this, epoch ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _dispatcher = new DeterministicDispatcher(this);
    }

    public int Seed { get; }

    /// <summary>The only random source for everything on this world (actors, link models, scenario code).</summary>
    public Random Random { get; }

    public VirtualTimeProvider Time { get; }

    public Dispatcher Dispatcher => _dispatcher;

    /// <summary>Virtual time since the world began.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(_elapsedTicks);

    public long StepsExecuted { get; private set; }

    public int PendingSteps => _now.Count + _later.Count + StagedSteps;

    internal long ElapsedTicks => _elapsedTicks;

    /// <summary>Runs every step due now, including the ones they cause, without advancing the clock. Returns the steps run.</summary>
    public long RunUntilIdle()
    {
        var before = StepsExecuted;
        while (TryStep(_elapsedTicks))
        {
        }
        return StepsExecuted - before;
    }

    /// <summary>Runs every step due within <paramref name="duration"/>, then sets the clock to the end of it.</summary>
    public void Advance(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        RunUntilTime(Elapsed + duration);
    }

    /// <summary>Runs steps until virtual time <paramref name="elapsed"/> (since the world began), then sets the clock there.</summary>
    public void RunUntilTime(TimeSpan elapsed)
    {
        var target = elapsed.Ticks;
        while (TryStep(target))
        {
        }
        if (target > _elapsedTicks)
        {
            _elapsedTicks = target;
        }
    }

    /// <summary>
    /// Runs steps one at a time until <paramref name="condition"/> holds or <paramref name="timeout"/> of virtual time
    /// passes (the clock then stands at the deadline). Returns whether the condition holds.
    /// </summary>
    public bool RunUntil(Func<bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = _elapsedTicks + timeout.Ticks;
        while (!condition())
        {
            if (!TryStep(deadline))
            {
                _elapsedTicks = Math.Max(_elapsedTicks, deadline);
                return condition();
            }
        }
        return true;
    }

    internal void EnqueueNow(WorkKind kind, object? target, object? message, object? extra) =>
        _now.Enqueue(new WorkItem(_seq++, kind, target, message, extra));

    /// <summary>Runs <paramref name="callback"/> after <paramref name="delay"/> of virtual time.</summary>
    internal void Schedule(TimeSpan delay, Action<object?> callback, object? state)
    {
        if (delay <= TimeSpan.Zero)
        {
            EnqueueNow(WorkKind.Callback, callback, null, state);
            return;
        }
        var item = new WorkItem(_seq++, WorkKind.Callback, callback, null, state);
        _later.Enqueue(item, _elapsedTicks + delay.Ticks);
    }

    /// <summary>Queues <paramref name="timer"/>'s next firing after <paramref name="delay"/>; returns the step's sequence number.</summary>
    internal long ScheduleTimer(TimeSpan delay, IWorldTimer timer)
    {
        var item = new WorkItem(_seq++, WorkKind.Timer, timer, null, null);
        if (delay <= TimeSpan.Zero)
        {
            _now.Enqueue(item);
        }
        else
        {
            _later.Enqueue(item, _elapsedTicks + delay.Ticks);
        }
        return item.Seq;
    }

    /// <summary>
    /// Queues the firing of <paramref name="cell"/>'s single timer <paramref name="key"/> after <paramref name="delay"/>;
    /// returns the step's sequence number, which is the firing's generation (see <see cref="TimerScheduler"/>). The step
    /// holds the key and message, so a timer costs no object until it fires.
    /// </summary>
    internal long ScheduleActorTimer(TimeSpan delay, ActorCell cell, object key, object message)
    {
        var item = new WorkItem(_seq++, WorkKind.ActorTimer, cell, message, key);
        if (delay <= TimeSpan.Zero)
        {
            _now.Enqueue(item);
        }
        else
        {
            _later.Enqueue(item, _elapsedTicks + delay.Ticks);
        }
        return item.Seq;
    }

    /// <summary>
    /// Tells <paramref name="message"/> to <paramref name="receiver"/> after <paramref name="delay"/>: the step a one-shot
    /// virtual timer would run (same sequence number position, same due time), without the timer.
    /// </summary>
    internal void ScheduleTell(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender)
    {
        if (delay <= TimeSpan.Zero)
        {
            EnqueueNow(WorkKind.Tell, receiver, message, sender);
            return;
        }
        var item = new WorkItem(_seq++, WorkKind.Tell, receiver, message, sender);
        _later.Enqueue(item, _elapsedTicks + delay.Ticks);
    }

    private bool TryStep(long limitTicks)
    {
        WorkItem item;
        if (_now.Count > 0)
        {
            if (TryPeekLater(out var due, out var seq, out var staged) && due <= _elapsedTicks && seq < _now.Peek().Seq)
            {
                item = DequeueLater(staged);
            }
            else
            {
                item = _now.Dequeue();
            }
        }
        else
        {
            if (_current.IsUsedUp && PrepareWindow > TimeSpan.Zero)
            {
                AdvanceWindows(limitTicks);
            }

            if (!TryPeekLater(out var due, out _, out var staged) || due > limitTicks)
            {
                return false;
            }

            item = DequeueLater(staged);
            if (due > _elapsedTicks)
            {
                _elapsedTicks = due;
            }
        }
        StepsExecuted++;
        switch (item.Kind)
        {
            case WorkKind.Tell when item.Target is ActorCell cell && IsOwnDeterministic(cell):
                TellNow(cell, item.Message!, (IActorRef?)item.Extra, local: false);
                break;
            case WorkKind.ActorTimer:
                var owner = (ActorCell)item.Target!;
                if (owner.TimerFiring(item.Extra!, item.Message!, item.Seq) is { } fired)
                {
                    if (IsOwnDeterministic(owner))
                    {
                        TellNow(owner, fired, null, local: true);
                    }
                    else
                    {
                        owner.TellLocal(fired, null);
                    }
                }
                break;
            default:
                Execute(item);
                break;
        }
        return true;
    }

    private bool IsOwnDeterministic(ActorCell cell) => cell.Dispatcher is DeterministicDispatcher { World: var world } && world == this;

    /// <summary>
    /// A scheduled tell (or a timer's firing, a local tell) to an actor of this world. The tell queues the delivery
    /// as a step due now with the next sequence number, so when nothing else is due now (no step queued for now, no
    /// timed step due by now — any such has a lower sequence number and would run first) the delivery is the very
    /// next step: it runs here, with the same sequence number and step count, and skips the round trip through the
    /// queue.
    /// </summary>
    private void TellNow(ActorCell cell, object message, IActorRef? sender, bool local)
    {
        if (_now.Count > 0 || (TryPeekLater(out var due, out _, out _) && due <= _elapsedTicks))
        {
            if (local)
            {
                cell.TellLocal(message, sender);
            }
            else
            {
                cell.Tell(message, sender);
            }
            return;
        }
        if (!cell.AcceptTellNow(ref message, sender, local))
        {
            return;
        }
        _seq++;
        StepsExecuted++;
        cell.DeliverDeterministic(new Envelope(message, sender));
    }

    private static void Execute(in WorkItem item)
    {
        switch (item.Kind)
        {
            case WorkKind.Deliver:
                ((ActorCell)item.Target!).DeliverDeterministic(new Envelope(item.Message!, (IActorRef?)item.Extra));
                break;
            case WorkKind.System:
                ((ActorCell)item.Target!).RunSystemDeterministic();
                break;
            case WorkKind.Drain:
                ((ActorCell)item.Target!).DrainDeterministic();
                break;
            case WorkKind.Continuation:
                ((ActorCell)item.Target!).RunContinuation((SendOrPostCallback)item.Message!, item.Extra);
                break;
            case WorkKind.Callback:
                ((Action<object?>)item.Target!)(item.Extra);
                break;
            case WorkKind.Timer:
                ((IWorldTimer)item.Target!).Fire(item.Seq);
                break;
            case WorkKind.Tell:
                ((IActorRef)item.Target!).Tell(item.Message!, (IActorRef?)item.Extra);
                break;
        }
    }
}

/// <summary>A virtual timer's firing step: <paramref name="seq"/> is the step's sequence number, stale unless the timer still expects it.</summary>
internal interface IWorldTimer
{
    void Fire(long seq);
}
