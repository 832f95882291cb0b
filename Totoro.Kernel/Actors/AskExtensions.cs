namespace Totoro.Kernel;

/// <summary>Request–reply for the edges (CLI, client endpoints, tests). Inside the actor graph use Tell with correlation ids.</summary>
public static class AskExtensions
{
    /// <summary>
    /// Sends <paramref name="message"/> with a temporary reply ref as sender; completes with the first reply of type
    /// <typeparamref name="T"/>, faults on a <see cref="StatusFailure"/>, and times out (on the system's clock).
    /// </summary>
    public static async Task<T> Ask<T>(this IActorRef target, object message, TimeSpan timeout, ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(system);
        var promise = new PromiseActorRef(system, timeout);
        target.Tell(message, promise);
        var reply = await promise.Task.ConfigureAwait(continueOnCapturedContext: true);
        return reply is T typed
            ? typed
            : throw new InvalidCastException($"Ask expected {typeof(T).Name} but got {reply.GetType().Name}");
    }

    /// <summary>Ask from inside an actor (in an async handler); the continuation resumes inside the actor's turn.</summary>
    public static Task<T> Ask<T>(this IActorContext context, IActorRef target, object message, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(context);
        return target.Ask<T>(message, timeout, context.System);
    }
}
