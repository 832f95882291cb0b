using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Data;

namespace Totoro.Actors.Fl;

/// <summary>
/// One node's worker for one app: trains the round's model on its own partition (on its trainer, off the actor
/// dispatcher), waits out the device's compute time in simulation, asks the root for admission when the round
/// invited more than K (over-selection keeps the first K; with no extras every invitee is admitted, so it does not
/// ask), then hands the update to its node's aggregator (its parent actor).
/// </summary>
internal sealed class WorkerActor : ReceiveActor
{
    private FlNodeOptions _options;
    private readonly IActorRef _compute;
    private IActorRef? _trainer;
    private Dataset? _data;
    private (string Dataset, Partitioning Partitioning, int Seed, string SeedingName)? _dataKey;
    private RoundStart? _start;
    private int _worker;
    private ClientUpdate? _trained;

    public WorkerActor(FlNodeOptions options, IActorRef compute)
    {
        _options = options;
        _compute = compute;
        Receive<TrainRound>(OnTrainRound);
        Receive<TrainDone>(OnTrainDone);
        Receive<Trained>(OnTrained);
        Receive<Admission>(OnAdmission);
        Receive<RoundCancel>(OnCancel);
        Receive<FlTopologyChanged>(changed => _options = _options with { Topology = changed.Topology });
    }

    protected override void PreStart()
    {
        var cache = _options.Cache;
        var props = Props.Create(() => new TrainerActor(cache));
        _trainer = Context.ActorOf(_options.Settings.TrainingDispatcher is { } name ? props.WithDispatcher(name) : props, "trainer");
    }

    private void OnTrainRound(TrainRound train)
    {
        _start = train.Start;
        _worker = train.Worker;
        _trained = null;
        var spec = train.Start.Spec;
        if (_dataKey != (spec.Dataset, spec.Partitioning, spec.Seed, spec.SeedingName))
        {
            // A resubmitted app may partition differently; the split is computed once per run's data settings.
            _data = Partition(spec, train.Worker);
            _dataKey = (spec.Dataset, spec.Partitioning, spec.Seed, spec.SeedingName);
        }

        if (_data is null || _data.Count == 0)
        {
            Context.Parent!.Tell(new OwnUpdate(train.Start.Spec.Name, train.Start.Round, null), Self);
            return;
        }

        _trainer!.Tell(new TrainJob(train.Start.Spec, train.Start.Round, train.Worker, train.Model, _data), Self);
    }

    private void OnTrainDone(TrainDone done)
    {
        if (_start is null || done.Round != _start.Round)
        {
            return;
        }

        if (done.Update is null)
        {
            Context.Parent!.Tell(new OwnUpdate(_start.Spec.Name, done.Round, null), Self);
            return;
        }

        _compute.Tell(new Charge(done.Flops, new Trained(done.Round, done.Update), Self), Self);
    }

    private void OnTrained(Trained trained)
    {
        if (_start is null || trained.Round != _start.Round)
        {
            return;
        }

        if (_start.Spec.AdmissionImplied)
        {
            // No extras are ever invited, so the root would admit every invitee: asking costs a round trip to the
            // root (queued behind model chunks on its uplink) and decides nothing. Hand the update up at once.
            Context.Parent!.Tell(new OwnUpdate(_start.Spec.Name, trained.Round, trained.Update), Self);
            return;
        }

        _trained = trained.Update;
        var ready = new UpdateReady(_start.Spec.Name, _start.Run, trained.Round, _worker, _options.Topology.Workers(_start.Spec.Name)[_worker]);
        FlPaths.CoordinatorOn(Context.System, _start.Coordinator, _start.Spec.Name).Tell(ready, Self);
    }

    private void OnAdmission(Admission admission)
    {
        if (_start is null || admission.Run != _start.Run || admission.Round != _start.Round || _trained is null)
        {
            return;
        }

        Context.Parent!.Tell(new OwnUpdate(admission.App, admission.Round, admission.Admitted ? _trained : null), Self);
        _trained = null;
    }

    /// <summary>The round was cancelled: whatever its training still yields is dropped, and its queued compute is withdrawn.</summary>
    private void OnCancel(RoundCancel cancel)
    {
        if (_start is not null && cancel.Run == _start.Run && cancel.Round == _start.Round)
        {
            _start = null;
            _trained = null;
            _compute.Tell(new CancelCharges(Self), Self);
        }
    }

    private Dataset? Partition(AppSpec spec, int worker)
    {
        if (!_options.Catalog.TryGet(spec.Dataset, out var data))
        {
            FlLog.DatasetMissing(Log, spec.Name, spec.Dataset);
            return null;
        }

        var workers = _options.Topology.Workers(spec.Name).Length;
        var parts = spec.Partitioning.Split(data.Train, workers, FlSeeds.Derive(spec.Seed, spec.SeedingName, 0));
        return data.Train.Subset(parts[worker]);
    }

    private sealed record Trained(long Round, ClientUpdate Update) : ILocalMessage;
}
