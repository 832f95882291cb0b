namespace Totoro.Kernel;

/// <summary>A one-shot ref completing an <c>Ask</c>: the first message wins; a <see cref="StatusFailure"/> faults the task.</summary>
internal sealed class PromiseActorRef : InternalActorRef
{
    // Completes synchronously inside the replying Tell; Ask maps it onto a task whose awaiters run asynchronously.
    private readonly TaskCompletionSource<object> _completion = new();
    private readonly ActorSystem _system;
    private readonly ActorPath _path;
    private readonly ITimer _timeout;

    public PromiseActorRef(ActorSystem system, TimeSpan timeout)
    {
        _system = system;
        _path = system.Temp.NextPath();
        system.Temp.Add(this);
        _timeout = system.Time.CreateTimer(
            static state => ((PromiseActorRef)state!).Fail(new TimeoutException($"Ask timed out on {((PromiseActorRef)state!)._path}")),
            this,
            timeout,
            Timeout.InfiniteTimeSpan);
    }

    public override ActorPath Path => _path;

    internal override ActorSystem Owner => _system;

    public Task<object> Task => _completion.Task;

    public override void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is StatusFailure failure)
        {
            Fail(failure.Cause);
            return;
        }
        if (_completion.TrySetResult(message))
        {
            Cleanup();
        }
        else
        {
            _system.PublishDeadLetter(message, sender, this);
        }
    }

    public override void SendSystemMessage(SystemMessage message)
    {
        if (message is WatchRequest watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this, addressTerminated: false));
        }
    }

    private void Fail(Exception exception)
    {
        if (_completion.TrySetException(exception))
        {
            Cleanup();
        }
    }

    private void Cleanup()
    {
        _timeout.Dispose();
        _system.Temp.Remove(this);
    }
}
