using System.Collections.Immutable;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>
/// One node's tree role for one app: passes RoundStart on to the children that lead to invited workers, streams
/// the round's model chunks on to them as each arrives (<see cref="ModelRelay"/>), starts its own worker when
/// invited and the model is complete, collects (app, round) results until all arrived or its budget ran out, then
/// folds them (foldable rules) or relays the raw updates (non-foldable rules) to its parent — one message either way.
/// </summary>
internal sealed class AggregatorActor : ReceiveActor
{
    private FlNodeOptions _options;
    private readonly Address _self;
    private readonly IActorRef _compute;
    private IActorRef? _worker;
    private IActorRef? _folder;
    private RoundStart? _start;
    private ModelRelay? _relay;
    private int _ownWorker = -1;
    private SubtreeRound? _round;
    private PartialAggregate? _folded;
    private Address? _parent;
    private ImmutableArray<Address> _children = [];

    public AggregatorActor(FlNodeOptions options, Address self, IActorRef compute)
    {
        _options = options;
        _self = self;
        _compute = compute;
        Receive<RoundStart>(OnRoundStart);
        Receive<ModelChunk>(OnChunk);
        Receive<RoundModel>(OnRoundModel);
        Receive<RoundCancel>(OnCancel);
        Receive<SubtreeResult>(OnChildResult);
        Receive<OwnUpdate>(OnOwnUpdate);
        Receive<RoundDeadline>(OnDeadline);
        Receive<FlTopologyChanged>(OnTopologyChanged);
        Receive<FoldDone>(OnFolded);
        Receive<Folded>(OnFoldCharged);
        Receive<IdleCheck>(_ => OnIdleCheck());
        Receive<RetireRole>(OnRetire);
    }

    /// <summary>A charge still queued for this role or its worker would keep the node's device busy for nothing.</summary>
    protected override void PostStop()
    {
        _compute.Tell(new CancelCharges(Self), Self);
        if (_worker is { } worker)
        {
            _compute.Tell(new CancelCharges(worker), Self);
        }
    }

    private void OnRetire(RetireRole retire)
    {
        retire.Notice?.PassOn(_options.Topology, _self, Context.System, Self);
        Context.Stop(Self);
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
        var workers = _options.Topology.Workers(app);
        var own = workers.IndexOf(_self);
        var ownInvited = own >= 0 && start.Workers.Contains(own);
        var childBudget = start.Budget * _options.Settings.LevelBudgetFactor;
        long bytesDown = 0;
        var children = routes.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal).ToArray();
        _children = [.. children.Select(c => c.Key)];
        foreach (var (child, routed) in children)
        {
            var message = start with { Workers = routed, Budget = childBudget };
            bytesDown += message.WireSize;
            FlPaths.Host(Context.System, child).Tell(message, Self);
        }

        // A child is a leaf this round when the only invited worker below it is its own.
        bool IsLeaf(KeyValuePair<Address, ImmutableArray<int>> route) => route.Value.Length == 1 && workers[route.Value[0]] == route.Key;
        var relays = children.Where(c => !IsLeaf(c)).OrderByDescending(c => c.Value.Length).Select(c => c.Key);
        _relay = ModelRelay.Open(app, start.Run, start.Round, start.Model, relays, children.Where(IsLeaf).Select(c => c.Key), ownInvited);
        _ownWorker = ownInvited ? own : -1;
        _round = SubtreeRound.Open(start.Round, routes.Keys, ownInvited, bytesDown);
        Timers.StartSingleTimer("deadline", new RoundDeadline(start.Round), start.Budget);
        Timers.StartSingleTimer("idle", IdleCheck.Instance, _options.Settings.TreeRoleIdleTimeout);
        CloseIfComplete();
    }

    /// <summary>No RoundStart for the idle timeout: ask the host to stop this role, unless a round is still open here.</summary>
    private void OnIdleCheck()
    {
        if (_round is { Closed: false })
        {
            Timers.StartSingleTimer("idle", IdleCheck.Instance, _options.Settings.TreeRoleIdleTimeout);
            return;
        }

        Context.Parent!.Tell(new TreeRoleIdle(App, _start!.Run), Self);
    }

    private void OnRoundModel(RoundModel model)
    {
        if (_relay is { } relay && model.Run == relay.Run && model.Round == relay.Round)
        {
            Relay(relay.Manifest.Split(model.App, model.Run, model.Round, model.Model), "own coordinator");
        }
    }

    private void OnChunk(ModelChunk chunk)
    {
        var from = Sender?.Path.Address.ToString() ?? "?";
        if (_relay is null || _round is not { Closed: false })
        {
            // No round open to pass it on to: the chunk is late (its round closed) or came before any RoundStart.
            _relay = _relay?.DropStale();
            FlLog.Dropped(Log, chunk.App, chunk.Round, "late model chunk", from);
            return;
        }

        Relay([chunk], from);
    }

    private void Relay(IReadOnlyList<ModelChunk> chunks, string from)
    {
        var step = _relay!.Take(chunks);
        var dropped = (step.State.Stale - _relay.Stale) + (step.State.Duplicates - _relay.Duplicates);
        _relay = step.State;
        if (dropped > 0)
        {
            FlLog.Dropped(Log, _relay.App, _relay.Round, "stale or duplicate model chunk", from);
        }

        long bytes = 0;
        foreach (var send in step.Sends)
        {
            bytes += send.Chunk.WireSize;
            FlPaths.Host(Context.System, send.To).Tell(send.Chunk, Self);
        }

        if (_round is { } round)
        {
            _round = round with { Counters = round.Counters with { BytesDown = round.Counters.BytesDown + bytes } };
        }

        if (step.Refused is { } why)
        {
            FlLog.Dropped(Log, _relay.App, _relay.Round, why, from);
            OnOwnUpdate(new OwnUpdate(_relay.App, _relay.Round, null));
        }
        else if (step.Assembled is { } model && _ownWorker >= 0)
        {
            _worker ??= Context.ActorOf(Props.Create(() => new WorkerActor(_options, _compute)), FlPaths.Worker);
            _worker.Tell(new TrainRound(_start!, model, _ownWorker), Self);
        }
    }

    /// <summary>
    /// The round was cancelled: pass that on to the children it went to, tell the own worker, withdraw the fold's
    /// compute, and forget the round, so its late chunks and results are dropped and nothing goes up for it.
    /// </summary>
    private void OnCancel(RoundCancel cancel)
    {
        if (_start is null || cancel.Run != _start.Run || cancel.Round != _start.Round || _round is null)
        {
            FlLog.Dropped(Log, cancel.App, cancel.Round, "stale round cancel", Sender?.Path.Address.ToString() ?? "?");
            return;
        }

        foreach (var child in _children)
        {
            FlPaths.Host(Context.System, child).Tell(cancel, Self);
        }

        _worker?.Tell(cancel, Self);
        _compute.Tell(new CancelCharges(Self), Self);
        Timers.Cancel("deadline");
        _round = null;
        _relay = null;
        _folded = null;
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
            _folder!.Tell(new FoldJob(foldable, new ModelShape(_start.Model.ArchitectureId, _start.Model.Length), _round, _options.Settings.FoldLimits), Self);
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
        // Model chunks this node dropped count with the round's other drops.
        var round = _round! with
        {
            Counters = _round.Counters with
            {
                StaleDropped = _round.Counters.StaleDropped + _relay!.Stale,
                DuplicatesDropped = _round.Counters.DuplicatesDropped + _relay.Duplicates,
            },
        };
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

    private sealed record IdleCheck : ILocalMessage
    {
        public static IdleCheck Instance { get; } = new();
    }

    private void Note(Arrival arrival, long round, string from)
    {
        if (arrival != Arrival.Accepted)
        {
            FlLog.Dropped(Log, App, round, arrival == Arrival.Stale ? "stale" : "duplicate", from);
        }
    }
}
