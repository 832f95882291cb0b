namespace Totoro.Kernel;

/// <summary>
/// An actor whose behaviour is a table of typed handlers, tried in registration order. Register the initial
/// behaviour in the constructor; switch behaviours with <see cref="Become"/>.
/// </summary>
public abstract class ReceiveActor : ActorBase
{
    private List<MessageHandler> _behaviour = [];
    private List<MessageHandler>? _building;
    private List<List<MessageHandler>>? _stack;

    protected void Receive<T>(Action<T> handler) => Add(new SyncHandler<T>(handler, null));

    protected void Receive<T>(Predicate<T> predicate, Action<T> handler) => Add(new SyncHandler<T>(handler, predicate));

    /// <summary>An async handler: the actor takes no other message (not even a stop) until the task completes.</summary>
    protected void ReceiveAsync<T>(Func<T, Task> handler) => Add(new AsyncHandler<T>(handler, null));

    protected void ReceiveAsync<T>(Predicate<T> predicate, Func<T, Task> handler) => Add(new AsyncHandler<T>(handler, predicate));

    protected void ReceiveAny(Action<object> handler) => Add(new SyncHandler<object>(handler, null));

    /// <summary>Replaces the current behaviour with the handlers <paramref name="configure"/> registers.</summary>
    protected void Become(Action configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _behaviour = Build(configure);
        _stack?.Clear();
    }

    /// <summary>Pushes a behaviour; <see cref="Unbecome"/> pops back to the previous one.</summary>
    protected void BecomeStacked(Action configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        (_stack ??= []).Add(_behaviour);
        _behaviour = Build(configure);
    }

    protected void Unbecome()
    {
        if (_stack is { Count: > 0 } stack)
        {
            _behaviour = stack[^1];
            stack.RemoveAt(stack.Count - 1);
        }
    }

    internal sealed override Task? Dispatch(object message)
    {
        var handlers = _behaviour;
        for (var i = 0; i < handlers.Count; i++)
        {
            if (handlers[i].TryHandle(this, message, out var task))
            {
                return task;
            }
        }
        InvokeUnhandled(message);
        return null;
    }

    private List<MessageHandler> Build(Action configure)
    {
        var table = new List<MessageHandler>();
        var outer = _building;
        _building = table;
        try
        {
            configure();
        }
        finally
        {
            _building = outer;
        }
        return table;
    }

    private void Add(MessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        (_building ?? _behaviour).Add(handler);
    }

    private abstract class MessageHandler
    {
        public abstract bool TryHandle(ReceiveActor actor, object message, out Task? task);
    }

    private sealed class SyncHandler<T>(Action<T> handler, Predicate<T>? predicate) : MessageHandler
    {
        public override bool TryHandle(ReceiveActor actor, object message, out Task? task)
        {
            task = null;
            if (message is not T typed || (predicate is not null && !predicate(typed)))
            {
                return false;
            }
            handler(typed);
            return true;
        }
    }

    private sealed class AsyncHandler<T>(Func<T, Task> handler, Predicate<T>? predicate) : MessageHandler
    {
        public override bool TryHandle(ReceiveActor actor, object message, out Task? task)
        {
            task = null;
            if (message is not T typed || (predicate is not null && !predicate(typed)))
            {
                return false;
            }
            task = actor.Cell.RunAsyncHandler(handler, typed);
            return true;
        }
    }
}
