using System.Collections.Immutable;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>
/// One node's tree role for one app: passes RoundStart on to the children that lead to invited workers, starts
/// its own worker when invited, collects (app, round) results until all arrived or its budget ran out, then folds
/// them (foldable rules) or relays the raw updates (non-foldable rules) to its parent — one message either way.
/// </summary>
internal sealed class AggregatorActor : ReceiveActor
{
    private FlNodeOptions _options;
    private readonly Address _self;
    private readonly IActorRef _compute;
    private IActorRef? _worker;
    private IActorRef? _folder;
    private RoundStart? _start;
    private SubtreeRound? _round;
    private PartialAggregate? _folded;
    private Address? _parent;

    public AggregatorActor(FlNodeOptions options, Address self, IActorRef compute)
    {
        _options = options;
        _self = self;
        _compute = compute;
        Receive<RoundStart>(OnRoundStart);
        Receive<SubtreeResult>(OnChildResult);
        Receive<OwnUpdate>(OnOwnUpdate);
        Receive<RoundDeadline>(OnDeadline);
        Receive<FlTopologyChanged>(OnTopologyChanged);
        Receive<FoldDone>(OnFolded);
        Receive<Folded>(OnFoldCharged);
    }

    protected override void PreStart()
    {
        var props = Props.Create(() => new TrainerActor());
        _folder = Context.ActorOf(_options.Settings.TrainingDispatcher is { } name ? props.WithDispatcher(name) : props, "folder");
    }

    private string App => _start!.Spec.Name;

    private void OnRoundStart(RoundStart start)
    {
        if (_start is not null && (start.Run < _start.Run || (start.Run == _start.Run && start.Round <= _start.Round)))
        {
            FlLog.Dropped(Log, start.Spec.Name, start.Round, "stale round-start", Sender?.Path.Address.ToString() ?? "?");
            return;
        }

        _start = start;
        var app = start.Spec.Name;
        _parent = _options.Topology.Parent(app, _self);
        var routes = _options.Topology.RouteToChildren(app, _self, start.Workers);
        var own = _options.Topology.Workers(app).IndexOf(_self);
        var ownInvited = own >= 0 && start.Workers.Contains(own);
        var childBudget = start.Budget * _options.Settings.LevelBudgetFactor;
        long bytesDown = 0;
        foreach (var (child, workers) in routes.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal))
        {
            var message = start with { Workers = workers, Budget = childBudget };
            bytesDown += message.WireSize;
            FlPaths.Host(Context.System, child).Tell(message, Self);
        }

        _round = SubtreeRound.Open(start.Round, routes.Keys, ownInvited, bytesDown);
        if (ownInvited)
        {
            _worker ??= Context.ActorOf(Props.Create(() => new WorkerActor(_options, _compute)), FlPaths.Worker);
            _worker.Tell(new TrainRound(start, own), Self);
        }

        Timers.StartSingleTimer("deadline", new RoundDeadline(start.Round), start.Budget);
        CloseIfComplete();
    }

    private void OnTopologyChanged(FlTopologyChanged changed)
    {
        _options = _options with { Topology = changed.Topology };
        _worker?.Tell(changed, Self);
    }

    private void OnChildResult(SubtreeResult result)
    {
        if (_round is null)
        {
            return;
        }

        if (result.Run != _start!.Run)
        {
            _round = _round.DropStale();
            Note(Arrival.Stale, result.Round, result.From.ToString());
            return;
        }

        (_round, var arrival) = _round.OnChild(result.Round, result.From, result.Folded, result.Relayed, result.Counters);
        Note(arrival, result.Round, result.From.ToString());
        CloseIfComplete();
    }

    private void OnOwnUpdate(OwnUpdate own)
    {
        if (_round is null)
        {
            return;
        }

        (_round, var arrival) = _round.OnOwn(own.Round, own.Update);
        Note(arrival, own.Round, "own worker");
        CloseIfComplete();
    }

    private void OnDeadline(RoundDeadline deadline)
    {
        if (_round is { Closed: false } round && round.Round == deadline.Round)
        {
            FlLog.DeadlinePassed(Log, App, round.Round, round.PendingChildren.Count + (round.OwnPending ? 1 : 0));
            Close();
        }
    }

    private void CloseIfComplete()
    {
        if (_round is { Closed: false, IsComplete: true })
        {
            Close();
        }
    }

    private void Close()
    {
        _round = _round!.Close();
        Timers.Cancel("deadline");
        _folded = null;
        if (_start!.Spec.Strategy.CreateRule() is IFoldableRule foldable)
        {
            _folder!.Tell(new FoldJob(foldable, new ModelShape(_start.Model.ArchitectureId, _start.Model.Parameters.Length), _round), Self);
        }
        else
        {
            Send();
        }
    }

    private void OnFolded(FoldDone done)
    {
        if (_round is not null && done.Round == _round.Round)
        {
            _folded = done.Folded;
            _compute.Tell(new Charge(done.Flops, new Folded(done.Round), Self), Self);
        }
    }

    private void OnFoldCharged(Folded charged)
    {
        if (_round is not null && charged.Round == _round.Round)
        {
            Send();
        }
    }

    /// <summary>One message up: the fold (foldable rules) or the subtree's raw updates, relayed as they are.</summary>
    private void Send()
    {
        var round = _round!;
        var result = _start!.Spec.Strategy.IsFoldable
            ? new SubtreeResult(App, _start.Run, round.Round, _self, _folded, [], round.Counters)
            : new SubtreeResult(App, _start.Run, round.Round, _self, null, [.. round.Updates], round.Counters);
        if (_parent is not { } parent)
        {
            FlPaths.CoordinatorOn(Context.System, _start.Coordinator, App).Tell(result, Self);
            return;
        }

        var sent = result with { Counters = result.Counters with { BytesUp = result.Counters.BytesUp + result.WireSize } };
        FlPaths.AggregatorOn(Context.System, parent, App).Tell(sent, Self);
    }

    private sealed record Folded(long Round) : ILocalMessage;

    private void Note(Arrival arrival, long round, string from)
    {
        if (arrival != Arrival.Accepted)
        {
            FlLog.Dropped(Log, App, round, arrival == Arrival.Stale ? "stale" : "duplicate", from);
        }
    }
}
