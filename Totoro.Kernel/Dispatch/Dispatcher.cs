namespace Totoro.Kernel;

/// <summary>Runs actors. Choose one per actor via <see cref="Props.Dispatcher"/>; actor code is the same on every dispatcher.</summary>
public abstract class Dispatcher : IDisposable
{
    private protected Dispatcher()
    {
    }

    /// <summary>User messages an actor handles per scheduling before yielding its thread.</summary>
    public abstract int Throughput { get; }

    internal virtual bool IsDeterministic => false;

    internal abstract void Dispatch(ActorCell cell, in Envelope envelope);

    internal abstract void SystemDispatch(ActorCell cell, SystemMessage message);

    /// <summary>Runs an async handler's continuation inside the cell's turn.</summary>
    internal abstract void Post(ActorCell cell, SendOrPostCallback callback, object? state);

    internal virtual void Execute(ActorCell cell) =>
        throw new InvalidOperationException($"{GetType().Name} does not run mailboxes");

    internal virtual void ScheduleDrain(ActorCell cell) =>
        throw new InvalidOperationException($"{GetType().Name} does not drain cells one message at a time");

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
