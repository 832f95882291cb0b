using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// A node's processor in simulation: jobs (training, folding, evaluation) of every app on this node queue FIFO
/// and each occupies the device for FLOPs / (FLOP/s) of virtual time, so a shared server pays for all its apps.
/// A role whose round was cancelled withdraws its jobs (<see cref="CancelCharges"/>): the device abandons the one it
/// runs and the jobs behind move up. With no device speed (real deployments) the reply goes out at once: the work
/// already took real time.
/// </summary>
internal sealed class ComputeActor : ReceiveActor
{
    private readonly double? _flopsPerSecond;

    /// <summary>Jobs not yet done, in the order the device runs them, each with when it starts and ends.</summary>
    private readonly List<Job> _queue = [];
    private TimeSpan _busyUntil;
    private long _nextJob;

    public ComputeActor(double? flopsPerSecond)
    {
        _flopsPerSecond = flopsPerSecond;
        Receive<Charge>(OnCharge);
        Receive<JobDone>(OnJobDone);
        Receive<CancelCharges>(OnCancel);
    }

    private TimeSpan Now => Context.Time.GetUtcNow() - DateTimeOffset.UnixEpoch;

    private void OnCharge(Charge charge)
    {
        if (_flopsPerSecond is not { } speed)
        {
            charge.ReplyTo.Tell(charge.Reply, Self);
            return;
        }

        var now = Now;
        var start = _busyUntil > now ? _busyUntil : now;
        _busyUntil = start + TimeSpan.FromSeconds(charge.Flops / speed);
        var job = new Job(_nextJob++, charge.Reply, charge.ReplyTo, start, _busyUntil);
        _queue.Add(job);
        Timers.StartSingleTimer(job.Id, new JobDone(job.Id), _busyUntil - now);
    }

    private void OnJobDone(JobDone done)
    {
        var index = _queue.FindIndex(j => j.Id == done.Job);
        if (index >= 0)
        {
            var job = _queue[index];
            _queue.RemoveAt(index);
            job.ReplyTo.Tell(job.Reply, Self);
        }
    }

    private void OnCancel(CancelCharges cancel)
    {
        var withdrawn = _queue.Where(j => j.ReplyTo.Equals(cancel.Owner)).ToArray();
        if (withdrawn.Length == 0)
        {
            return;
        }

        foreach (var job in withdrawn)
        {
            _queue.Remove(job);
            Timers.Cancel(job.Id);
        }

        var now = Now;
        var free = now;
        for (var i = 0; i < _queue.Count; i++)
        {
            var job = _queue[i];
            if (job.Start <= now)
            {
                // Already on the device: it keeps its end.
                free = job.End > free ? job.End : free;
                continue;
            }

            var start = free;
            var moved = job with { Start = start, End = start + (job.End - job.Start) };
            if (moved != job)
            {
                _queue[i] = moved;
                Timers.StartSingleTimer(job.Id, new JobDone(job.Id), moved.End - now);
            }

            free = moved.End;
        }

        _busyUntil = free;
    }

    private sealed record Job(long Id, object Reply, IActorRef ReplyTo, TimeSpan Start, TimeSpan End);

    private sealed record JobDone(long Job) : ILocalMessage;
}
