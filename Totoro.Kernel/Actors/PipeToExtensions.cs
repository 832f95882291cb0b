namespace Totoro.Kernel;

/// <summary>Hands the result of long work back to an actor as a message, so the actor keeps handling others meanwhile.</summary>
public static class PipeToExtensions
{
    /// <summary>Tells <paramref name="recipient"/> the task's result (or <see cref="StatusFailure"/>) when it completes.</summary>
    public static Task PipeTo<T>(this Task<T> task, IActorRef recipient, IActorRef? sender = null, Func<T, object>? success = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(recipient);
        return task.ContinueWith(
            completed =>
            {
                if (completed.IsCompletedSuccessfully)
                {
                    var result = completed.Result;
                    recipient.Tell(success is null ? result! : success(result), sender);
                }
                else
                {
                    var cause = completed.Exception?.InnerException ?? new TaskCanceledException(completed);
                    recipient.Tell(new StatusFailure(cause), sender);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
