using System.Collections.Concurrent;

namespace Totoro.Kernel;

/// <summary>
/// The mailbox half of the cell. Thread-pool and dedicated dispatchers run <see cref="RunMailbox"/>: system messages
/// first, then up to the dispatcher's throughput of user messages. The deterministic world instead hands each
/// delivery to <see cref="DeliverDeterministic"/> in (virtual time, sequence) order and only queues here when the
/// actor cannot take the message yet (async handler pending, failed, restarting, unstashed backlog).
/// </summary>
internal sealed partial class ActorCell
{
    private int _asyncHandoff;
    private Task? _pendingTask;

    internal void EnqueueUser(in Envelope envelope)
    {
        var mailbox = _mailbox ?? CreateMailbox();
        mailbox.Enqueue(envelope);
    }

    internal void PushSystem(SystemMessage message)
    {
        while (true)
        {
            var head = Volatile.Read(ref _systemHead);
            message.Next = head;
            if (Interlocked.CompareExchange(ref _systemHead, message, head) == head)
            {
                return;
            }
        }
    }

    internal bool TrySetScheduled() =>
        Volatile.Read(ref _status) == StatusIdle && Interlocked.CompareExchange(ref _status, StatusScheduled, StatusIdle) == StatusIdle;

    internal void RunMailbox()
    {
        var throughput = _dispatcher.Throughput;
        ProcessSystemMessages();
        while (throughput-- > 0 && CanProcessUserMessages && TryDequeue(out var envelope))
        {
            Invoke(envelope);
            if (Volatile.Read(ref _systemHead) is not null)
            {
                ProcessSystemMessages();
            }
        }
        if (Has(CellFlags.AwaitingAsync))
        {
            HandOffAsync();
            return;
        }
        if (IsTerminated)
        {
            DrainToDeadLetters();
        }
        // A full fence, not a release write: the queue must be re-read after the status is published, or a producer
        // that saw "scheduled" and this run that saw an empty queue would both walk away from a new message.
        Interlocked.Exchange(ref _status, StatusIdle);
        if (HasPendingWork() && TrySetScheduled())
        {
            _dispatcher.Execute(this);
        }
    }

    internal void DeliverDeterministic(in Envelope envelope)
    {
        if (IsTerminated)
        {
            _system.PublishDeadLetter(envelope.Message, envelope.Sender, this);
            return;
        }
        var wasAwaiting = Has(CellFlags.AwaitingAsync);
        if (!wasAwaiting)
        {
            ProcessSystemMessages();
        }
        if (CanProcessUserMessages && !HasBacklog())
        {
            Invoke(envelope);
        }
        else if (IsTerminated)
        {
            _system.PublishDeadLetter(envelope.Message, envelope.Sender, this);
        }
        else
        {
            EnqueueUser(envelope);
        }
        if (!wasAwaiting)
        {
            AfterDeterministicStep();
        }
    }

    /// <summary>Deterministic world: a system message arrived; catch up unless an async handler holds the actor.</summary>
    internal void RunSystemDeterministic()
    {
        if (Has(CellFlags.AwaitingAsync))
        {
            return;
        }
        ProcessSystemMessages();
        AfterDeterministicStep();
    }

    /// <summary>Deterministic world: take one queued message, then yield so other deliveries keep their order.</summary>
    internal void DrainDeterministic()
    {
        Clear(CellFlags.DrainScheduled);
        if (Has(CellFlags.AwaitingAsync))
        {
            return;
        }
        ProcessSystemMessages();
        if (CanProcessUserMessages && TryDequeue(out var envelope))
        {
            Invoke(envelope);
        }
        AfterDeterministicStep();
    }

    private void AfterDeterministicStep()
    {
        if (Has(CellFlags.AwaitingAsync))
        {
            HandOffAsync();
            return;
        }
        if (IsTerminated)
        {
            DrainToDeadLetters();
            return;
        }
        ScheduleDrainIfNeeded();
    }

    private void ScheduleDrainIfNeeded()
    {
        if (_dispatcher.IsDeterministic && !Has(CellFlags.DrainScheduled) && CanProcessUserMessages && HasBacklog())
        {
            Set(CellFlags.DrainScheduled);
            _dispatcher.ScheduleDrain(this);
        }
    }

    private ConcurrentQueue<Envelope> CreateMailbox()
    {
        Interlocked.CompareExchange(ref _mailbox, new ConcurrentQueue<Envelope>(), null);
        return _mailbox;
    }

    private bool HasBacklog() => _extras?.Unstashed is { Count: > 0 } || _mailbox is { IsEmpty: false };

    private bool HasPendingWork() =>
        Volatile.Read(ref _systemHead) is not null || (HasBacklog() && (CanProcessUserMessages || IsTerminated));

    private bool TryDequeue(out Envelope envelope)
    {
        if (_extras?.Unstashed is { Count: > 0 } unstashed)
        {
            envelope = unstashed.Dequeue();
            return true;
        }
        if (_mailbox is { } mailbox)
        {
            return mailbox.TryDequeue(out envelope);
        }
        envelope = default;
        return false;
    }

    private void DrainToDeadLetters()
    {
        while (TryDequeue(out var envelope))
        {
            _system.PublishDeadLetter(envelope.Message, envelope.Sender, this);
        }
    }

    /// <summary>
    /// Processes system messages oldest first. If one of them starts an async handler (a <see cref="Terminated"/>
    /// handled asynchronously), the rest wait in <see cref="CellExtras.SystemBacklog"/> until it completes.
    /// </summary>
    private void ProcessSystemMessages()
    {
        while (!Has(CellFlags.AwaitingAsync))
        {
            var ordered = _extras?.SystemBacklog;
            if (ordered is not null)
            {
                _extras!.SystemBacklog = null;
            }
            else
            {
                if (Volatile.Read(ref _systemHead) is null)
                {
                    return;
                }
                var list = Interlocked.Exchange(ref _systemHead, null);
                while (list is not null)
                {
                    var next = list.Next;
                    list.Next = ordered;
                    ordered = list;
                    list = next;
                }
            }
            while (ordered is not null)
            {
                var message = ordered;
                ordered = ordered.Next;
                message.Next = null;
                ProcessSystemMessage(message);
                if (Has(CellFlags.AwaitingAsync) && ordered is not null)
                {
                    Extras.SystemBacklog = ordered;
                    return;
                }
            }
        }
    }

    private void Invoke(in Envelope envelope)
    {
        var message = envelope.Message;
        _currentMessage = message;
        _currentSender = envelope.Sender;
        try
        {
            switch (message)
            {
                case TimerScheduler.Fired fired:
                    if (_timers is not { } timers || !timers.TryAccept(fired))
                    {
                        return;
                    }
                    _currentMessage = fired.Message;
                    _currentSender = null;
                    DispatchToActor(fired.Message);
                    break;
                case PoisonPill:
                    SendSystemMessage(new Terminate());
                    break;
                default:
                    DispatchToActor(message);
                    break;
            }
        }
        catch (Exception exception)
        {
            HandleFailure(exception);
        }
        finally
        {
            if (!Has(CellFlags.AwaitingAsync))
            {
                _currentMessage = null;
                _currentSender = null;
            }
        }
    }

    private void DispatchToActor(object message)
    {
        var task = _actor!.Dispatch(message);
        if (task is null)
        {
            return;
        }
        if (task.IsCompleted)
        {
            task.GetAwaiter().GetResult();
            return;
        }
        BeginAwait(task);
    }

    /// <summary>Runs an async handler with the actor's synchronization context so its continuations come back to this actor.</summary>
    internal Task RunAsyncHandler<T>(Func<T, Task> handler, T message)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Extras.SyncContext ??= new ActorSynchronizationContext(this));
        try
        {
            return handler(message);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void BeginAwait(Task task)
    {
        Set(CellFlags.AwaitingAsync);
        _pendingTask = task;
        Volatile.Write(ref _asyncHandoff, 0);
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Extras.SyncContext ??= new ActorSynchronizationContext(this));
        try
        {
            task.GetAwaiter().UnsafeOnCompleted(HandOffAsync);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>
    /// Called twice per async handler: when the mailbox run that started it unwinds, and when the task completes.
    /// The second caller resumes the mailbox, so the two never run concurrently.
    /// </summary>
    private void HandOffAsync()
    {
        if (Interlocked.Increment(ref _asyncHandoff) != 2)
        {
            return;
        }
        var task = _pendingTask!;
        _pendingTask = null;
        Clear(CellFlags.AwaitingAsync);
        if (task.IsFaulted || task.IsCanceled)
        {
            var exception = task.Exception?.InnerException ?? new TaskCanceledException(task);
            HandleFailure(exception);
        }
        _currentMessage = null;
        _currentSender = null;
        if (_dispatcher.IsDeterministic)
        {
            ProcessSystemMessages();
            AfterDeterministicStep();
        }
        else
        {
            RunMailbox();
        }
    }

    internal void RunContinuation(SendOrPostCallback callback, object? state)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Extras.SyncContext);
        try
        {
            callback(state);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>Puts stashed envelopes back ahead of the mailbox, in their original order.</summary>
    internal void Unstash(IEnumerable<Envelope> envelopes)
    {
        var unstashed = Extras.Unstashed ??= new Queue<Envelope>();
        if (unstashed.Count == 0)
        {
            foreach (var envelope in envelopes)
            {
                unstashed.Enqueue(envelope);
            }
        }
        else
        {
            var rest = unstashed.ToArray();
            unstashed.Clear();
            foreach (var envelope in envelopes)
            {
                unstashed.Enqueue(envelope);
            }
            foreach (var envelope in rest)
            {
                unstashed.Enqueue(envelope);
            }
        }
        ScheduleDrainIfNeeded();
    }

    internal Envelope CurrentEnvelope => _currentMessage is { } message
        ? new Envelope(message, _currentSender)
        : throw new InvalidOperationException("There is no current message to stash.");
}
