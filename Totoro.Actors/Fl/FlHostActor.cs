using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// A node's FL entry point at <c>/user/fl</c>: routes a submission to the app's root (via the topology's root
/// lookup; later the ring key) and starts the coordinator there, starts a node's tree role for an app on its first
/// RoundStart (and passes it the model chunks that follow), hands new topology snapshots to its roles, and owns the node's compute queue.
/// </summary>
internal sealed class FlHostActor : ReceiveActor
{
    private FlNodeOptions _options;
    private IActorRef? _compute;
    private long _runs;

    /// <summary>Apps whose coordinator has finished but may not have stopped yet: not running any more.</summary>
    private readonly HashSet<string> _finished = [];
    private ReplicaBook _replicas = ReplicaBook.Empty;
    private readonly Dictionary<string, long> _runsHere = [];

    public FlHostActor(FlNodeOptions options)
    {
        _options = options with { Settings = options.Settings.Validated() };
        Receive<SubmitApp>(OnSubmit);
        Receive<RoundStart>(OnRoundStart);
        Receive<ModelChunk>(chunk => ToAggregator(chunk.App, chunk, chunk.Round, "model chunk before any round-start"));
        Receive<RoundModel>(model => ToAggregator(model.App, model, model.Round, "model chunk before any round-start"));
        Receive<RoundCancel>(cancel => ToAggregator(cancel.App, cancel, cancel.Round, "round cancel before any round-start"));
        Receive<FlTopologyChanged>(OnTopologyChanged);
        Receive<QueryApp>(OnQuery);
        Receive<ListFlRoles>(_ => Sender!.Tell(ListRoles(), Self));
        Receive<CoordinatorFinished>(OnCoordinatorFinished);
        Receive<AppReplica>(OnReplica);
        Receive<DropReplica>(drop => _replicas = _replicas.Drop(drop.App, drop.Run));
    }

    private Address SelfAddress => Context.System.Address;

    protected override void PreStart() => _compute = Context.ActorOf(Props.Create(() => new ComputeActor(_options.DeviceFlopsPerSecond)), "compute");

    private void OnSubmit(SubmitApp submit)
    {
        var app = submit.Spec.Name;
        var root = _options.Topology.Root(app);
        if (root != SelfAddress)
        {
            if (submit.Hops >= _options.Settings.MaxSubmitHops)
            {
                var reason = $"no stable root after {submit.Hops} forwards (the nodes' topologies disagree; retry when the overlay has settled)";
                FlLog.AppRejected(Log, app, reason);
                submit.Client.Tell(new AppRejected(app, reason), Self);
                return;
            }

            FlPaths.Host(Context.System, root).Forward(submit with { Hops = submit.Hops + 1 }, Context);
            return;
        }

        if (Context.Child(FlPaths.Coordinator(app)) is not null)
        {
            FlLog.AppRejected(Log, app, "already running");
            submit.Client.Tell(new AppRejected(app, $"an app named '{app}' is already running"), Self);
            return;
        }

        StartCoordinator(submit.Spec, submit.Client, null);
    }

    private void OnCoordinatorFinished(CoordinatorFinished finished)
    {
        _finished.Add(finished.App);
        _replicas = _replicas.Drop(finished.App, finished.Run);
    }

    /// <summary>Keeps a successor's copy, unless this node already runs a newer run of that app (the old root, still alive a while, may send more).</summary>
    private void OnReplica(AppReplica replica)
    {
        if (!_runsHere.TryGetValue(replica.Spec.Name, out var run) || replica.Run > run)
        {
            _replicas = _replicas.Store(replica);
        }
    }

    private void StartCoordinator(AppSpec spec, IActorRef client, AppReplica? resume)
    {
        _finished.Remove(spec.Name);
        // Run ids grow with time and, within one tick, with this host's count, so a resubmission (or a resumed run,
        // whose new id makes the tree drop whatever the failed root had started) is always newer.
        var run = ((Context.Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks << 16) | (++_runs & 0xFFFF);
        _runsHere[spec.Name] = run;
        _replicas = _replicas.Drop(spec.Name, run);
        Context.ActorOf(
            Props.Create(() => new CoordinatorActor(spec, run, _options, SelfAddress, client, _compute!, resume)),
            FlPaths.Coordinator(spec.Name));
    }

    private void OnTopologyChanged(FlTopologyChanged changed)
    {
        _options = _options with { Topology = changed.Topology };
        // Coordinators keep the worker count they started with (it fixes the partitions of a run) and take only the
        // successors from a new snapshot; tree roles switch to it at their next round.
        var roles = Context.GetChildren().Where(c =>
            c.Path.Name.StartsWith(FlPaths.Aggregator(""), StringComparison.Ordinal) || c.Path.Name.StartsWith(FlPaths.Coordinator(""), StringComparison.Ordinal));
        foreach (var role in roles)
        {
            role.Tell(changed, Self);
        }

        foreach (var replica in _replicas.TakeOvers(changed.Topology, SelfAddress))
        {
            _replicas = _replicas.Without(replica.Spec.Name);
            if (Context.Child(FlPaths.Coordinator(replica.Spec.Name)) is null)
            {
                StartCoordinator(replica.Spec, replica.Client, replica);
            }
        }
    }

    private void OnQuery(QueryApp query)
    {
        if (Context.Child(FlPaths.Coordinator(query.App)) is { } coordinator && !_finished.Contains(query.App))
        {
            coordinator.Forward(query, Context);
            return;
        }

        Sender!.Tell(AppStatus.NotRunning(query.App, SelfAddress.ToString()), Self);
    }

    private FlRoles ListRoles()
    {
        var names = Context.GetChildren().Select(c => c.Path.Name).ToArray();
        string[] AppsOf(string prefix) =>
            [.. names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n[prefix.Length..]).Order(StringComparer.Ordinal)];
        return new FlRoles([.. AppsOf(FlPaths.Coordinator("")).Where(app => !_finished.Contains(app))], [.. AppsOf(FlPaths.Aggregator(""))], _options.Topology.Kind);
    }

    private void OnRoundStart(RoundStart start)
    {
        var name = FlPaths.Aggregator(start.Spec.Name);
        var aggregator = Context.Child(name) ?? Context.ActorOf(Props.Create(() => new AggregatorActor(_options, SelfAddress, _compute!)), name);
        aggregator.Forward(start, Context);
    }

    private void ToAggregator(string app, object message, long round, string orphan)
    {
        if (Context.Child(FlPaths.Aggregator(app)) is { } aggregator)
        {
            aggregator.Forward(message, Context);
            return;
        }

        FlLog.Dropped(Log, app, round, orphan, Sender?.Path.Address.ToString() ?? "?");
    }
}
