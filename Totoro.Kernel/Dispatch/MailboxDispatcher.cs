namespace Totoro.Kernel;

/// <summary>A dispatcher that schedules whole mailboxes: a cell is queued at most once, then runs a batch.</summary>
public abstract class MailboxDispatcher : Dispatcher
{
    private protected MailboxDispatcher(int throughput)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(throughput, 1);
        Throughput = throughput;
    }

    public override int Throughput { get; }

    internal sealed override void Dispatch(ActorCell cell, in Envelope envelope)
    {
        cell.EnqueueUser(envelope);
        if (cell.TrySetScheduled())
        {
            Execute(cell);
        }
    }

    internal sealed override void SystemDispatch(ActorCell cell, SystemMessage message)
    {
        cell.PushSystem(message);
        if (cell.TrySetScheduled())
        {
            Execute(cell);
        }
    }

    internal sealed override void Post(ActorCell cell, SendOrPostCallback callback, object? state) =>
        Run(new Continuation(cell, callback, state));

    private protected abstract void Run(IThreadPoolWorkItem item);

    private sealed class Continuation(ActorCell cell, SendOrPostCallback callback, object? state) : IThreadPoolWorkItem
    {
        public void Execute() => cell.RunContinuation(callback, state);
    }
}
