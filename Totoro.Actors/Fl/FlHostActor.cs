using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// A node's FL entry point at <c>/user/fl</c>: routes a submission to the app's root (via the topology's root
/// lookup; later the ring key) and starts the coordinator there, starts a node's tree role for an app on its first
/// RoundStart, hands new topology snapshots to its roles, and owns the node's compute queue.
/// </summary>
internal sealed class FlHostActor : ReceiveActor
{
    private FlNodeOptions _options;
    private IActorRef? _compute;
    private long _runs;

    /// <summary>Apps whose coordinator has finished but may not have stopped yet: not running any more.</summary>
    private readonly HashSet<string> _finished = [];

    public FlHostActor(FlNodeOptions options)
    {
        _options = options with { Settings = options.Settings.Validated() };
        Receive<SubmitApp>(OnSubmit);
        Receive<RoundStart>(OnRoundStart);
        Receive<FlTopologyChanged>(OnTopologyChanged);
        Receive<QueryApp>(OnQuery);
        Receive<ListFlRoles>(_ => Sender!.Tell(ListRoles(), Self));
        Receive<CoordinatorFinished>(finished => _finished.Add(finished.App));
    }

    private Address SelfAddress => Context.System.Address;

    protected override void PreStart() => _compute = Context.ActorOf(Props.Create(() => new ComputeActor(_options.DeviceFlopsPerSecond)), "compute");

    private void OnSubmit(SubmitApp submit)
    {
        var app = submit.Spec.Name;
        var root = _options.Topology.Root(app);
        if (root != SelfAddress)
        {
            FlPaths.Host(Context.System, root).Forward(submit, Context);
            return;
        }

        if (Context.Child(FlPaths.Coordinator(app)) is not null)
        {
            FlLog.AppRejected(Log, app, "already running");
            submit.Client.Tell(new AppRejected(app, $"an app named '{app}' is already running"), Self);
            return;
        }

        _finished.Remove(app);
        // Run ids grow with time and, within one tick, with this host's count, so a resubmission is always newer.
        var run = ((Context.Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks << 16) | (++_runs & 0xFFFF);
        Context.ActorOf(
            Props.Create(() => new CoordinatorActor(submit.Spec, run, _options, SelfAddress, submit.Client, _compute!)),
            FlPaths.Coordinator(app));
    }

    private void OnTopologyChanged(FlTopologyChanged changed)
    {
        _options = _options with { Topology = changed.Topology };
        // Coordinators read the topology only when they start (the worker list fixes the partitions of a run).
        foreach (var role in Context.GetChildren().Where(c => c.Path.Name.StartsWith(FlPaths.Aggregator(""), StringComparison.Ordinal)))
        {
            role.Tell(changed, Self);
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
}
