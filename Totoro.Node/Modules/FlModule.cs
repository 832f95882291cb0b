using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Kernel.Hocon;
using Totoro.Node.Hosting;
using Totoro.Node.Ops;
using Endpoint = Totoro.Transport.Tcp.NodeAddress;

namespace Totoro.Node.Modules;

/// <summary>
/// Layer 3 in a real node: the FL host at <c>/user/fl</c> (coordinator, tree and worker roles of any app), its
/// topology derived from the live ring (<see cref="FlModuleTopologyActor"/>), the data sets the node serves, the
/// dedicated training dispatcher, submissions (<see cref="ITotoroNode.SubmitAsync(AppSpec, CancellationToken)"/>),
/// and the <c>app</c> and <c>round</c> palettes. Needs the <see cref="RingModule"/>, registered and started before it.
/// </summary>
public sealed class FlModule(RingModule ring) : INodeModule, INodeDispatcherProvider
{
    /// <summary>The topology actor's name under <c>/user</c>.</summary>
    public const string TopologyActorName = "fl-topology";

    private readonly Lock submissionsLock = new();
    private ImmutableList<FlSubmission> submissions = [];
    private FlRunning? running;
    private RingMemberTopology? topology;

    public string Name => "fl";

    internal FlRunning Running => Volatile.Read(ref running) ?? throw new InvalidOperationException("The FL module has not started.");

    /// <summary>The latest topology snapshot from the ring (this node alone until the ring answers).</summary>
    internal RingMemberTopology Topology => Volatile.Read(ref topology) ?? throw new InvalidOperationException("The FL module has not started.");

    /// <summary>The apps submitted from this node, oldest first.</summary>
    internal ImmutableList<FlSubmission> Submissions => Volatile.Read(ref submissions);

    public void RegisterSerializers(SerializerRegistry registry) => FlSerializers.Register(registry);

    public void RegisterPalettes(PaletteRegistry palettes)
    {
        AppPalette.Register(palettes, this);
        RoundPalette.Register(palettes, this);
    }

    public IReadOnlyDictionary<string, Dispatcher> CreateDispatchers(HoconConfig config)
    {
        var settings = FlModuleSettings.FromConfig(config);
        return new Dictionary<string, Dispatcher>
        {
            [settings.Roles.TrainingDispatcher!] = new DedicatedThreadDispatcher("fl-training", settings.TrainingThreads),
        };
    }

    public Task StartAsync(NodeContext context, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = FlModuleSettings.FromConfig(context.Config);
        var logger = context.LoggerFactory.CreateLogger<FlModule>();
        var system = context.System;
        var ringNode = ring.Node;
        var catalog = settings.LoadCatalog(logger);
        var first = new RingMemberTopology([new RingMember(ringNode.Self.Id, system.Address)], settings.TreeFanOut);
        Volatile.Write(ref topology, first);
        var engine = FlEngine.Start(system, new FlNodeOptions(first, catalog, settings.Roles, DeviceFlopsPerSecond: null));
        var host = system.Resolve(new ActorPath(system.Address, "/user/" + FlPaths.HostName));
        system.ActorOf(
            Props.Create(() => new FlModuleTopologyActor(ringNode.Ring, ring.Endpoints, host, settings.TreeFanOut, settings.TopologyRefresh, Publish, logger)),
            TopologyActorName);
        Volatile.Write(ref running, new FlRunning(system, engine, host, settings, logger));
        FlModuleLog.Started(logger, string.Join(",", new[]
        {
            catalog.TryGet(FlModuleSettings.FashionMnistName, out _) ? FlModuleSettings.FashionMnistName : null,
            catalog.TryGet(FlModuleSettings.BlobsName, out _) ? FlModuleSettings.BlobsName : null,
        }.OfType<string>()));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Nothing to hand over explicitly: the root's successors already hold its last checkpoint, and the ring's leave
    /// notice (sent next, by the ring module) makes the closest of them resume the app.
    /// </summary>
    public Task LeaveAsync(CancellationToken cancellation) => Task.CompletedTask;

    /// <summary>
    /// Submits <paramref name="spec"/> through the FL host of <paramref name="via"/> (null: this node), which passes it
    /// to the app's root; the reports stream back to this node over the transport.
    /// </summary>
    public async Task<AppHandle> SubmitAsync(AppSpec spec, Endpoint? via, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var node = Running;
        var target = via is { } endpoint ? new Address(node.System.Address.System, endpoint.Host, endpoint.Port) : node.System.Address;
        var handle = await node.Engine.SubmitAsync(spec, target, cancellation).ConfigureAwait(false);
        lock (submissionsLock)
        {
            submissions = submissions.Add(new FlSubmission(spec, handle, target));
        }

        FlModuleLog.Submitted(node.Logger, spec.Name, target.ToString());
        return handle;
    }

    /// <summary>
    /// Asks the app's root (by this node's topology) for its status over the transport; a <see cref="TimeoutException"/>
    /// names the root when it does not answer within <c>totoro.fl.query-timeout</c>.
    /// </summary>
    internal async Task<AppStatus> GetStatusAsync(string app, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(app);
        var node = Running;
        var root = Topology.Root(app);
        var rootHost = node.System.Resolve(new ActorPath(root, "/user/" + FlPaths.HostName));
        try
        {
            return await rootHost.Ask<AppStatus>(new QueryApp(app), node.Settings.QueryTimeout, node.System).WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the root of '{app}' ({root}) did not answer within {node.Settings.QueryTimeout}");
        }
    }

    /// <summary><see cref="GetStatusAsync"/> for the palettes: a root that does not answer is a command error.</summary>
    internal async Task<AppStatus> QueryAsync(string app, CancellationToken cancellation)
    {
        try
        {
            return await GetStatusAsync(app, cancellation).ConfigureAwait(false);
        }
        catch (TimeoutException error)
        {
            throw new OpsCommandException(error.Message);
        }
    }

    /// <summary>Raised (on the topology actor) after each new snapshot; the palettes read <see cref="Topology"/> instead.</summary>
    internal event Action<RingMemberTopology>? TopologyChanged;

    private void Publish(RingMemberTopology snapshot)
    {
        Volatile.Write(ref topology, snapshot);
        TopologyChanged?.Invoke(snapshot);
    }
}

/// <summary>What a started FL module runs.</summary>
internal sealed record FlRunning(ActorSystem System, FlEngine Engine, IActorRef Host, FlModuleSettings Settings, ILogger Logger);

/// <summary>An app submitted from this node: its spec, its handle, and the node it was submitted through.</summary>
internal sealed record FlSubmission(AppSpec Spec, AppHandle Handle, Address Via);
