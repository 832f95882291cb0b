using Microsoft.Extensions.Logging;

namespace Totoro.Kernel;

/// <summary>
/// Base of every actor. Subclass <see cref="ReceiveActor"/>. The constructor may register handlers but must not
/// touch <see cref="Context"/>; use <see cref="PreStart"/> for work that needs the actor's identity.
/// </summary>
public abstract class ActorBase
{
    private ActorCell? _cell;

    protected IActorContext Context => _cell ?? throw new InvalidOperationException(
        "The actor context is not available in the constructor; use PreStart.");

    protected IActorRef Self => Context.Self;

    /// <summary>The sender of the current message; valid for the whole (async) handler.</summary>
    protected IActorRef? Sender => Context.Sender;

    protected ILogger Log => Context.Log;

    /// <summary>Keyed timers owned by this actor; all are cancelled when it stops or restarts.</summary>
    protected ITimerScheduler Timers => Cell.Timers;

    /// <summary>Set messages aside and bring them back later (e.g. until initialization completes).</summary>
    protected IStash Stash => Cell.Stash;

    internal ActorCell Cell => _cell ?? throw new InvalidOperationException("The actor is not attached to a cell yet.");

    internal void Attach(ActorCell cell) => _cell = cell;

    /// <summary>Handles one message; returns a task if the handler went asynchronous, null otherwise.</summary>
    internal abstract Task? Dispatch(object message);

    protected virtual void PreStart()
    {
    }

    protected virtual void PostStop()
    {
    }

    /// <summary>Called on the failed instance before it is replaced; by default stops all children, then <see cref="PostStop"/>.</summary>
    protected virtual void PreRestart(Exception reason, object? message)
    {
        foreach (var child in Context.GetChildren())
        {
            Context.Stop(child);
        }
        PostStop();
    }

    /// <summary>Called on the fresh instance after a restart; by default <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>Called for a message no handler accepted; publishes <see cref="UnhandledMessage"/>.</summary>
    protected virtual void Unhandled(object message) =>
        Context.System.EventStream.Publish(new UnhandledMessage(message, Context.Sender, Context.Self));

    internal void InvokeUnhandled(object message) => Unhandled(message);

    internal void InvokePreStart() => PreStart();

    internal void InvokePostStop() => PostStop();

    internal void InvokePreRestart(Exception reason, object? message) => PreRestart(reason, message);

    internal void InvokePostRestart(Exception reason) => PostRestart(reason);
}
