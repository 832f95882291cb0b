namespace Totoro.Kernel;

/// <summary>
/// The threads that prepare steps for a <see cref="DeterministicWorld"/> while its own thread runs the window before.
/// Each is a background thread that waits for the next published batch, claims preparations from it until none is
/// left, and exits after a second with nothing to do (a world that is dropped leaves no thread behind).
/// </summary>
internal sealed class PrepareCrew
{
    private static readonly TimeSpan IdleExit = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _signal = new(0);
    private readonly int _size;
    private int _running;
    private Publication? _published;

    public PrepareCrew(int size) => _size = Math.Max(0, size);

    /// <summary>Offers <paramref name="batch"/>'s current generation to the crew.</summary>
    public void Publish(PrepareBatch batch)
    {
        if (_size == 0)
        {
            return;
        }

        Volatile.Write(ref _published, new Publication(batch, batch.Generation));
        for (var running = Volatile.Read(ref _running); running < _size; running = Volatile.Read(ref _running))
        {
            if (Interlocked.CompareExchange(ref _running, running + 1, running) == running)
            {
                new Thread(Run) { IsBackground = true, Name = "totoro-prepare" }.Start();
            }
        }

        _signal.Release(_size);
    }

    private void Run()
    {
        while (true)
        {
            if (!_signal.Wait(IdleExit))
            {
                Interlocked.Decrement(ref _running);
                return;
            }

            if (Volatile.Read(ref _published) is { } publication)
            {
                publication.Batch.Work(publication.Generation);
            }
        }
    }

    private sealed record Publication(PrepareBatch Batch, int Generation);
}
