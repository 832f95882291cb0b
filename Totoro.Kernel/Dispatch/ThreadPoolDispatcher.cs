namespace Totoro.Kernel;

/// <summary>The default dispatcher: mailboxes run as work items on the .NET thread pool.</summary>
public sealed class ThreadPoolDispatcher(int throughput = 300) : MailboxDispatcher(throughput)
{
    internal override void Execute(ActorCell cell) => ThreadPool.UnsafeQueueUserWorkItem(cell, preferLocal: true);

    private protected override void Run(IThreadPoolWorkItem item) => ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false);
}
