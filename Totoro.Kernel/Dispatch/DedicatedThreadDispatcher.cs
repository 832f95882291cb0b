using System.Collections.Concurrent;

namespace Totoro.Kernel;

/// <summary>
/// Mailboxes run on a fixed set of its own threads, so CPU-heavy actors (training) cannot starve the
/// thread pool that carries heartbeats. Dispose stops the threads after the queued work.
/// </summary>
public sealed class DedicatedThreadDispatcher : MailboxDispatcher
{
    private readonly BlockingCollection<IThreadPoolWorkItem> _work = new(new ConcurrentQueue<IThreadPoolWorkItem>());
    private readonly Thread[] _threads;

    public DedicatedThreadDispatcher(string name, int threadCount, int throughput = 30)
        : base(throughput)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        Name = name;
        _threads = new Thread[threadCount];
        for (var i = 0; i < threadCount; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"{name}-{i}" };
            _threads[i].Start();
        }
    }

    public string Name { get; }

    public int ThreadCount => _threads.Length;

    internal override void Execute(ActorCell cell) => _work.Add(cell);

    private protected override void Run(IThreadPoolWorkItem item) => _work.Add(item);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _work.CompleteAdding();
            foreach (var thread in _threads)
            {
                thread.Join();
            }
            _work.Dispose();
        }
        base.Dispose(disposing);
    }

    private void Loop()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            item.Execute();
        }
    }
}
