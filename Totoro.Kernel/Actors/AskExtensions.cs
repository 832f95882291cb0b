namespace Totoro.Kernel;

/// <summary>Request–reply for the edges (CLI, client endpoints, tests). Inside the actor graph use Tell with correlation ids.</summary>
public static class AskExtensions
{
    /// <summary>
    /// Sends <paramref name="message"/> with a temporary reply ref as sender; completes with the first reply of type
    /// <typeparamref name="T"/>, faults on a <see cref="StatusFailure"/>, and times out (on the system's clock).
    /// The returned task is already complete when the reply's Tell returns (so a deterministic world can poll it);
    /// awaiters resume asynchronously, on the awaiting actor's context if there is one.
    /// </summary>
    public static Task<T> Ask<T>(this IActorRef target, object message, TimeSpan timeout, ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(system);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var promise = new PromiseActorRef(system, timeout);
        promise.Task.ContinueWith(
            static (reply, state) =>
            {
                var completion = (TaskCompletionSource<T>)state!;
                if (reply.IsFaulted)
                {
                    completion.TrySetException(reply.Exception!.InnerException!);
                }
                else if (reply.Result is T typed)
                {
                    completion.TrySetResult(typed);
                }
                else
                {
                    completion.TrySetException(new InvalidCastException($"Ask expected {typeof(T).Name} but got {reply.Result.GetType().Name}"));
                }
            },
            result,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        target.Tell(message, promise);
        return result.Task;
    }

    /// <summary>Ask on the system the ref belongs to (every kernel ref knows it).</summary>
    public static Task<T> Ask<T>(this IActorRef target, object message, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target is InternalActorRef known
            ? target.Ask<T>(message, timeout, known.Owner)
            : throw new ArgumentException("Not a kernel ref; pass the ActorSystem explicitly", nameof(target));
    }

    /// <summary>Ask from inside an actor (in an async handler); the continuation resumes inside the actor's turn.</summary>
    public static Task<T> Ask<T>(this IActorContext context, IActorRef target, object message, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(context);
        return target.Ask<T>(message, timeout, context.System);
    }
}
