namespace Totoro.Transport.Tcp.Connection;

/// <summary>
/// Auto-reset wake-up for one waiting writer loop. Sets while nobody waits are remembered once, so a wake-up that
/// races the writer's last check is never lost; repeated sets cost one lock and no allocation.
/// </summary>
internal sealed class AsyncSignal
{
    private readonly Lock gate = new();
    private TaskCompletionSource? waiter;
    private bool signaled;

    public void Set()
    {
        TaskCompletionSource? toComplete;
        lock (gate)
        {
            if (signaled)
            {
                return;
            }
            toComplete = waiter;
            if (toComplete is null)
            {
                signaled = true;
                return;
            }
            waiter = null;
        }
        toComplete.TrySetResult();
    }

    public Task WaitAsync()
    {
        lock (gate)
        {
            if (signaled)
            {
                signaled = false;
                return Task.CompletedTask;
            }
            waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return waiter.Task;
        }
    }
}
