using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// A node's processor in simulation: jobs (training, folding, evaluation) of every app on this node queue FIFO
/// and each occupies the device for FLOPs / (FLOP/s) of virtual time, so a shared server pays for all its apps.
/// With no device speed (real deployments) the reply goes out at once: the work already took real time.
/// </summary>
internal sealed class ComputeActor : ReceiveActor
{
    private readonly double? _flopsPerSecond;
    private readonly Dictionary<long, (object Reply, IActorRef ReplyTo)> _pending = [];
    private TimeSpan _busyUntil;
    private long _nextJob;

    public ComputeActor(double? flopsPerSecond)
    {
        _flopsPerSecond = flopsPerSecond;
        Receive<Charge>(OnCharge);
        Receive<JobDone>(OnJobDone);
    }

    private void OnCharge(Charge charge)
    {
        if (_flopsPerSecond is not { } speed)
        {
            charge.ReplyTo.Tell(charge.Reply, Self);
            return;
        }

        var now = Context.Time.GetUtcNow() - DateTimeOffset.UnixEpoch;
        var start = _busyUntil > now ? _busyUntil : now;
        _busyUntil = start + TimeSpan.FromSeconds(charge.Flops / speed);
        var job = _nextJob++;
        _pending[job] = (charge.Reply, charge.ReplyTo);
        Timers.StartSingleTimer(job, new JobDone(job), _busyUntil - now);
    }

    private void OnJobDone(JobDone done)
    {
        if (_pending.Remove(done.Job, out var job))
        {
            job.ReplyTo.Tell(job.Reply, Self);
        }
    }

    private sealed record JobDone(long Job) : ILocalMessage;
}
