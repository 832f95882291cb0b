using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// A node's FL entry point at <c>/user/fl</c>: routes a submission to the app's root (via the topology's root
/// lookup; later the ring key) and starts the coordinator there, starts a node's tree role for an app on its first
/// RoundStart (and passes it the model chunks that follow), hands new topology snapshots to its roles, and owns the node's compute queue.
/// When an app ends its tree roles are stopped (the root's <see cref="AppEnded"/>, passed down the tree, or a role's own
/// <see cref="TreeRoleIdle"/>), and the root remembers how the app ended for status queries.
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

    /// <summary>Per app with a tree role here: the newest run whose RoundStart this node passed to it.</summary>
    private readonly Dictionary<string, long> _roleRuns = [];

    /// <summary>Apps whose tree role is stopping: messages for them are dropped until it is gone.</summary>
    private readonly HashSet<string> _retiring = [];

    /// <summary>How apps coordinated here ended, oldest first, at most <see cref="FlSettings.EndedAppHistory"/>.</summary>
    private readonly OrderedDictionary<string, AppStatus> _ended = [];

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
        Receive<DropReplica>(OnDropReplica);
        Receive<AppEnded>(OnAppEnded);
        Receive<TreeRoleIdle>(idle => Retire(idle.App, idle.Run, null));
        Receive<Terminated>(OnTerminated);
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
        Remember(finished.Final);
    }

    /// <summary>The app's root says it ended: forget its replica and keep its end record, as the root does.</summary>
    private void OnDropReplica(DropReplica drop)
    {
        _replicas = _replicas.Drop(drop.App, drop.Run);
        if (drop.Final is { } final && (!_ended.TryGetValue(drop.App, out var held) || held.Run <= drop.Run))
        {
            Remember(final);
        }
    }

    /// <summary>Keeps how an app ended, the latest record per app, at most <see cref="FlSettings.EndedAppHistory"/> apps.</summary>
    private void Remember(AppStatus final)
    {
        _ended.Remove(final.App);
        if (_options.Settings.EndedAppHistory > 0)
        {
            _ended.Add(final.App, final);
            while (_ended.Count > _options.Settings.EndedAppHistory)
            {
                _ended.RemoveAt(0);
            }
        }
    }

    /// <summary>
    /// Passes the end notice on toward all the app's workers and stops this node's role, but only if this node held a
    /// role of that run or an older one: a node without one has no subtree that heard of the run through it, and a
    /// second copy (snapshots that disagree about the tree) finds the role gone and stops there.
    /// </summary>
    private void OnAppEnded(AppEnded ended) => Retire(ended.App, ended.Run, ended);

    /// <summary>
    /// Stops the app's tree role if no run newer than <paramref name="run"/> has reached it. The role stops itself
    /// after what is already queued for it (a round cancel goes down the tree before the end notice) and passes
    /// <paramref name="notice"/> on; without a role here the host passes it on.
    /// </summary>
    private void Retire(string app, long run, AppEnded? notice)
    {
        if (!_roleRuns.TryGetValue(app, out var held) || held > run)
        {
            return;
        }

        _roleRuns.Remove(app);
        if (Context.Child(FlPaths.Aggregator(app)) is { } role)
        {
            FlLog.RoleStopped(Log, app, run, notice is null ? "idle" : "app ended");
            _retiring.Add(app);
            Context.Watch(role);
            role.Tell(new RetireRole(notice), Self);
        }
        else
        {
            notice?.PassOn(_options.Topology, SelfAddress, Context.System, Self);
        }
    }

    private void OnTerminated(Terminated terminated)
    {
        var name = terminated.ActorRef.Path.Name;
        var prefix = FlPaths.Aggregator("");
        if (name.StartsWith(prefix, StringComparison.Ordinal))
        {
            _retiring.Remove(name[prefix.Length..]);
        }
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

        Sender!.Tell(_ended.TryGetValue(query.App, out var ended) ? ended : AppStatus.NotRunning(query.App, SelfAddress.ToString()), Self);
    }

    private FlRoles ListRoles()
    {
        var names = Context.GetChildren().Select(c => c.Path.Name).ToArray();
        string[] AppsOf(string prefix) =>
            [.. names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n[prefix.Length..]).Order(StringComparer.Ordinal)];
        return new FlRoles(
            [.. AppsOf(FlPaths.Coordinator("")).Where(app => !_finished.Contains(app))],
            [.. AppsOf(FlPaths.Aggregator("")).Where(app => !_retiring.Contains(app))],
            _options.Topology.Kind)
        {
            EndedHere = [.. _ended.Values],
        };
    }

    private void OnRoundStart(RoundStart start)
    {
        var app = start.Spec.Name;
        if (_retiring.Contains(app))
        {
            // A new run of an app whose old role is still stopping (microseconds): this subtree misses the round,
            // as if the message were lost, and the next round starts a new role.
            FlLog.Dropped(Log, app, start.Round, "round-start while the app's old role stops", Sender?.Path.Address.ToString() ?? "?");
            return;
        }

        if (!_roleRuns.TryGetValue(app, out var held) || start.Run > held)
        {
            _roleRuns[app] = start.Run;
        }

        var name = FlPaths.Aggregator(app);
        var aggregator = Context.Child(name) ?? Context.ActorOf(Props.Create(() => new AggregatorActor(_options, SelfAddress, _compute!)), name);
        aggregator.Forward(start, Context);
    }

    private void ToAggregator(string app, object message, long round, string orphan)
    {
        if (!_retiring.Contains(app) && Context.Child(FlPaths.Aggregator(app)) is { } aggregator)
        {
            aggregator.Forward(message, Context);
            return;
        }

        FlLog.Dropped(Log, app, round, orphan, Sender?.Path.Address.ToString() ?? "?");
    }
}
