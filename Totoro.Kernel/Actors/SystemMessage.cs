namespace Totoro.Kernel;

/// <summary>
/// Lifecycle and supervision traffic, processed ahead of user messages. Each instance is a node of the
/// receiving cell's intrusive lock-free stack, so queueing one allocates nothing beyond the message.
/// </summary>
internal abstract class SystemMessage
{
    internal SystemMessage? Next;
}

internal sealed class Create : SystemMessage;

internal sealed class Terminate : SystemMessage;

internal sealed class Resume : SystemMessage;

internal sealed class Recreate(Exception cause) : SystemMessage
{
    public Exception Cause { get; } = cause;
}

internal sealed class Failed(InternalActorRef child, Exception cause) : SystemMessage
{
    public InternalActorRef Child { get; } = child;

    public Exception Cause { get; } = cause;
}

internal sealed class ChildTerminated(InternalActorRef child) : SystemMessage
{
    public InternalActorRef Child { get; } = child;
}

internal sealed class WatchRequest(InternalActorRef watchee, InternalActorRef watcher) : SystemMessage
{
    public InternalActorRef Watchee { get; } = watchee;

    public InternalActorRef Watcher { get; } = watcher;
}

internal sealed class UnwatchRequest(InternalActorRef watchee, InternalActorRef watcher) : SystemMessage
{
    public InternalActorRef Watchee { get; } = watchee;

    public InternalActorRef Watcher { get; } = watcher;
}

internal sealed class DeathWatchNotification(IActorRef actor, bool addressTerminated) : SystemMessage
{
    public IActorRef Actor { get; } = actor;

    public bool AddressTerminated { get; } = addressTerminated;
}

/// <summary>Runs a continuation of an async handler inside the actor's turn.</summary>
internal sealed class AsyncCompleted(Task task) : SystemMessage
{
    public Task Task { get; } = task;
}
