using System.Collections.Immutable;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Data;
using Totoro.Ml.Models;

namespace Totoro.Actors.Fl;

/// <summary>
/// An app's root: opens rounds (selection, RoundStart to its node's tree role), admits the first K ready workers,
/// closes collection on the subtree result or its deadline, applies the rule and the server optimizer, checkpoints,
/// evaluates on the held-out test set, reports, and decides: next round or done. Inline, the next round waits for
/// the evaluation; overlapped (<see cref="FlSettings.Evaluation"/>), it opens as soon as the aggregate is applied
/// and an evaluation that ends the app cancels the round in flight down the tree (<see cref="RoundCancel"/>).
/// Logic lives in <see cref="CoordinatorState"/>; this shell performs its effects. After every evaluated round it
/// sends an <see cref="AppReplica"/> of that round to the topology's successors; started from one (<c>resume</c>),
/// it continues that app from the replica's round with its model and optimizer state, under a new run id.
/// </summary>
internal sealed class CoordinatorActor : ReceiveActor
{
    private readonly AppSpec _spec;
    private readonly long _run;
    private readonly FlNodeOptions _options;
    private readonly Address _self;
    private readonly IActorRef _client;
    private readonly IActorRef _compute;
    private readonly IServerOptimizer _optimizer;
    private CoordinatorState _state;
    private IActorRef? _trainer;
    private SampleStore? _test;
    private float[] _model = [];
    private ulong _architecture;
    private TimeSpan _startedAt;
    private RoundOutcome? _outcome;
    private RoundReport? _lastReport;
    private readonly AppReplica? _resume;
    private IFlTopology _topology;
    private ImmutableHashSet<Address> _replicatedTo = [];

    /// <summary>Rounds applied but not yet evaluated: what their reports and replicas need besides the accuracy.</summary>
    private readonly Dictionary<long, AppliedRound> _applied = [];

    public CoordinatorActor(AppSpec spec, long run, FlNodeOptions options, Address self, IActorRef client, IActorRef compute, AppReplica? resume)
    {
        _resume = resume;
        _topology = options.Topology;
        _spec = spec;
        _run = run;
        _options = options;
        _self = self;
        _client = client;
        _compute = compute;
        _optimizer = spec.Strategy.CreateServerOptimizer();
        _state = CoordinatorState.Create(spec, options.Topology.Workers(spec.Name).Length, options.Settings.CooldownRounds, options.Settings.Evaluation);
        if (resume is not null)
        {
            _state = _state with { Round = resume.Round, LastAccuracy = resume.LastAccuracy };
        }
        Receive<UpdateReady>(OnReady);
        Receive<SubtreeResult>(OnSubtreeResult);
        Receive<RoundDeadline>(OnDeadline);
        Receive<AggregateDone>(OnAggregateDone);
        Receive<Aggregated>(OnAggregated);
        Receive<EvaluateDone>(done => _compute.Tell(new Charge(done.Flops, new Evaluated(done), Self), Self));
        Receive<EvaluateFailed>(failed => Finish(_state.Failed(), $"the evaluation of round {failed.Round} failed: {failed.Error}", _state.InFlight));
        Receive<Evaluated>(OnEvaluated);
        Receive<CancelApp>(_ => Finish(_state.Cancelled(), null, _state.InFlight));
        Receive<QueryApp>(_ => Sender!.Tell(Status(), Self));
        Receive<FlTopologyChanged>(changed => _topology = changed.Topology);
    }

    protected override void PreStart()
    {
        _startedAt = Now();
        if (!_options.Catalog.TryGet(_spec.Dataset, out var data))
        {
            FlLog.DatasetMissing(Log, _spec.Name, _spec.Dataset);
            Finish(_state.Failed(), $"data set '{_spec.Dataset}' is not in the root's catalog", null);
            return;
        }

        _test = data.Test;
        if (!ModelFactory.TryCreate(_spec.Model, _spec.Seed, data.Train.Shape, data.Train.Classes, out var model, out var unfit))
        {
            // A model name that parses but does not fit the data (LeNet-5 on plain features): the app fails, with why.
            Finish(_state.Failed(), $"model '{_spec.Model}' cannot be built for data set '{_spec.Dataset}' ({data.Train.Shape}, {data.Train.Classes} classes): {unfit}", null);
            return;
        }

        _model = model.Parameters.ToArray();
        _architecture = TrainerActor.ArchitectureKey(model);
        if (_resume is { } replica)
        {
            if (replica.Model.ArchitectureId != _architecture || replica.Model.Parameters.Length != _model.Length)
            {
                Finish(_state.Failed(), $"the checkpoint of round {replica.Round} does not fit model '{_spec.Model}' on this node", null);
                return;
            }

            FlLog.TakingOver(Log, _spec.Name, replica.Root.ToString(), replica.Round);
            _model = replica.Model.Parameters.ToArray();
            _optimizer.Restore(replica.Optimizer);
        }

        var cache = _options.Cache;
        var props = Props.Create(() => new TrainerActor(cache));
        _trainer = Context.ActorOf(_options.Settings.TrainingDispatcher is { } name ? props.WithDispatcher(name) : props, "evaluator");
        _client.Tell(new AppAccepted(_spec.Name, _self), Self);
        if (_resume?.LastReport is { } resent)
        {
            _lastReport = resent;
            _client.Tell(resent, Self);
        }

        FlLog.AppStarted(Log, _spec.Name, _self.ToString(), _options.Topology.Kind);
        StartRound();
    }

    private void StartRound()
    {
        _state = _state.StartNextRound();
        _outcome = null;
        FlLog.RoundStarted(Log, _spec.Name, _state.Round, _state.Invited.Length);
        var model = new GlobalModel(_architecture, _state.Round - 1, (float[])_model.Clone());
        var manifest = ModelManifest.Of(model, _options.Settings.ModelChunkFloats);
        var start = new RoundStart(_spec, _run, _state.Round, manifest, _state.Invited, _spec.RoundDeadline * _options.Settings.LevelBudgetFactor, _self);
        var host = FlPaths.Host(Context.System, _self);
        host.Tell(start, Self);
        host.Tell(new RoundModel(_spec.Name, _run, _state.Round, model), Self);
        Timers.StartSingleTimer("deadline", new RoundDeadline(_state.Round), _spec.RoundDeadline);
    }

    private void OnReady(UpdateReady ready)
    {
        if (ready.Run != _run)
        {
            _state = _state.DropStale();
            return;
        }

        (_state, var admitted) = _state.OnReady(ready.Round, ready.Worker);
        if (admitted is { } yes)
        {
            FlPaths.WorkerOn(Context.System, ready.WorkerNode, _spec.Name).Tell(new Admission(_spec.Name, _run, ready.Round, ready.Worker, yes), Self);
        }
    }

    private void OnSubtreeResult(SubtreeResult result)
    {
        if (result.Run != _run)
        {
            _state = _state.DropStale();
            return;
        }

        var contributors = (result.Folded?.Contributors ?? []).Concat(result.Relayed.Select(u => u.ContributorId)).Select(id => (int)id).ToArray();
        (_state, var accepted) = _state.CloseCollection(result.Round, contributors);
        if (!accepted)
        {
            return;
        }

        Timers.Cancel("deadline");
        _outcome = new RoundOutcome(null, result.Counters);
        _trainer!.Tell(new AggregateJob(result.Round, _spec.Strategy.CreateRule(), new ModelShape(_architecture, _model.Length), result.Folded, result.Relayed), Self);
    }

    private void OnAggregateDone(AggregateDone done)
    {
        if (done.Round == _state.Round && _state.Phase == RoundPhase.Aggregating)
        {
            _outcome = _outcome! with { Result = done.Result };
            _compute.Tell(new Charge(done.Flops, new Aggregated(done.Round), Self), Self);
        }
    }

    private void OnDeadline(RoundDeadline deadline)
    {
        (_state, var accepted) = _state.CloseCollection(deadline.Round, []);
        if (accepted)
        {
            _outcome = new RoundOutcome(null, RoundCounters.Zero);
            Self.Tell(new Aggregated(deadline.Round), Self);
        }
    }

    private void OnAggregated(Aggregated aggregated)
    {
        if (aggregated.Round != _state.Round || _state.Phase != RoundPhase.Aggregating)
        {
            return;
        }

        if (_outcome?.Result is { Succeeded: true } succeeded)
        {
            _optimizer.Step(_model, succeeded.Delta.Span);
        }
        else if (_outcome?.Result is { Error: { } error })
        {
            FlLog.AggregationFailed(Log, _spec.Name, _state.Round, error);
        }

        _state = _state.Aggregated();
        var model = new GlobalModel(_architecture, _state.Round, (float[])_model.Clone());
        var optimizer = _optimizer.Snapshot();
        Context.System.EventStream.Publish(new AppCheckpoint(_spec.Name, _state.Round, model, optimizer));
        _applied[_state.Round] = AppliedRound.Of(_state, model, optimizer, _outcome?.Result, _outcome?.Counters ?? RoundCounters.Zero);
        _trainer!.Tell(new EvaluateJob(_spec, _state.Round, model, _test!.All()), Self);
        if (_state.ReadyForNextRound)
        {
            StartRound();
        }
    }

    private void OnEvaluated(Evaluated evaluated)
    {
        var done = evaluated.Done;
        var before = _state;
        (_state, var accepted) = _state.Evaluated(done.Round, done.Accuracy);
        if (!accepted || !_applied.Remove(done.Round, out var applied))
        {
            return;
        }

        _lastReport = applied.Report(_spec.Name, done, before, Now() - _startedAt);
        _client.Tell(_lastReport, Self);
        FlLog.RoundCompleted(Log, _spec.Name, done.Round, applied.Participants, done.Accuracy);
        if (_state.IsDone)
        {
            Finish(_state, null, before.InFlight);
            return;
        }

        Replicate(done.Round, applied);
        if (_state.ReadyForNextRound)
        {
            StartRound();
        }
    }

    /// <summary>Ends the app; <paramref name="inFlight"/> is a round still out in the tree, which is cancelled there.</summary>
    private void Finish(CoordinatorState state, string? error, long? inFlight)
    {
        _state = state;
        Timers.CancelAll();
        if (inFlight is { } round)
        {
            FlPaths.Host(Context.System, _self).Tell(new RoundCancel(_spec.Name, _run, round), Self);
        }

        _compute.Tell(new CancelCharges(Self), Self);
        var result = new AppResult(_spec.Name, state.Outcome, state.Round, state.LastAccuracy, Now() - _startedAt, error);
        var final = Status() with { Running = false, Ended = result };
        // Before the client hears the result, so a status query that follows it finds the app ended.
        Context.Parent!.Tell(new CoordinatorFinished(_spec.Name, _run, final), Self);
        // After the cancel (same link, same order): every tree node stops its role for this run.
        FlPaths.Host(Context.System, _self).Tell(new AppEnded(_spec.Name, _run), Self);
        // The successors keep the end record too: the next-closest node answers for the key once this root is gone.
        foreach (var successor in _replicatedTo.Union(Successors()))
        {
            FlPaths.Host(Context.System, successor).Tell(new DropReplica(_spec.Name, _run, final), Self);
        }

        _client.Tell(result, Self);
        FlLog.AppFinished(Log, _spec.Name, state.Outcome, state.Round);
        Context.Stop(Self);
    }

    /// <summary>The checkpoint of the round just evaluated (model, round, optimizer state) to the successors on the ring.</summary>
    private void Replicate(long round, AppliedRound applied)
    {
        var successors = Successors().ToList();
        if (successors.Count == 0)
        {
            return;
        }

        var replica = new AppReplica(_spec, _run, round, applied.Model, applied.Optimizer, _state.LastAccuracy, _client, _self, _lastReport);
        foreach (var successor in successors)
        {
            FlPaths.Host(Context.System, successor).Tell(replica, Self);
            _replicatedTo = _replicatedTo.Add(successor);
        }
    }

    /// <summary>The next-closest nodes to the app's key (<c>totoro.fl.replicas</c>), when the topology names them.</summary>
    private IEnumerable<Address> Successors() =>
        _options.Settings.Replicas > 0 && _topology is IFlSuccessors ring ? ring.Successors(_spec.Name, _options.Settings.Replicas).Where(s => s != _self) : [];

    private AppStatus Status() => new(
        _spec.Name,
        true,
        _self.ToString(),
        _run,
        _state.Round,
        _state.Phase.ToString().ToLowerInvariant(),
        _spec.Rounds,
        _spec.TargetAccuracy,
        _spec.ClientsPerRound,
        _state.Invited.Length,
        _state.AdmittedCount,
        _state.Selector.WorkerCount,
        _options.Topology.Kind,
        Now() - _startedAt,
        _lastReport);

    private TimeSpan Now() => Context.Time.GetUtcNow() - DateTimeOffset.UnixEpoch;

    private sealed record RoundOutcome(AggregationResult? Result, RoundCounters Counters);

    private sealed record Aggregated(long Round) : ILocalMessage;

    private sealed record Evaluated(EvaluateDone Done) : ILocalMessage;
}
