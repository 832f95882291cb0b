using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry.Metrics;
using Totoro.Kernel;
using Totoro.Kernel.Hocon;
using Totoro.Node.Membership;
using Totoro.Node.Ops;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Hosting;

/// <summary>
/// Starts a node: serializers and palettes of every module, the TCP transport, the actor system on its bound address,
/// the membership and ops actors, the modules. Stops it: modules leave (bounded), the transport closes, the system ends.
/// </summary>
internal sealed class TotoroNode : ITotoroNode, IAsyncDisposable
{
    private readonly INodeModule[] modules;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly IHostApplicationLifetime? lifetime;
    private Running? running;
    private int phase;

    /// <param name="lifetime">The host to stop on <c>node leave</c>; without one that command is refused.</param>
    public TotoroNode(HoconConfig config, IEnumerable<INodeModule> modules, ILoggerFactory? loggerFactory = null, TimeProvider? time = null,
        IHostApplicationLifetime? lifetime = null)
    {
        this.lifetime = lifetime;
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Settings = NodeSettings.FromConfig(config);
        this.modules = [.. modules];
        this.loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        logger = this.loggerFactory.CreateLogger<TotoroNode>();
        this.time = time ?? TimeProvider.System;
        Palettes = new PaletteRegistry();
        BuiltInPalettes.Register(Palettes);
        foreach (var module in this.modules)
        {
            module.RegisterPalettes(Palettes);
        }
        Palettes.Seal();
    }

    public NodeSettings Settings { get; }

    public HoconConfig Config { get; }

    public bool IsRunning => Volatile.Read(ref running) is not null;

    public Address Address => Current.System.Address;

    public ActorSystem System => Current.System;

    public IReadOnlyList<INodeModule> Modules => modules;

    public PaletteRegistry Palettes { get; }

    /// <summary>The TCP transport (connected peers, counters); throws before start.</summary>
    internal TcpActorTransport Transport => Current.Transport;

    internal DateTimeOffset StartedAt => Current.StartedAt;

    private Running Current => Volatile.Read(ref running) ?? throw new InvalidOperationException("The node is not running.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref phase, Phase.Starting, Phase.Stopped) != Phase.Stopped)
        {
            throw new InvalidOperationException("The node is already started (or starting or stopping).");
        }
        var started = false;
        IReadOnlyDictionary<string, Dispatcher> dispatchers = new Dictionary<string, Dispatcher>();
        try
        {
            var registry = NodeSerializers.Register(SerializerRegistry.CreateWithKernelMessages());
            foreach (var module in modules)
            {
                module.RegisterSerializers(registry);
            }
            var transport = new TcpActorTransport(
                Settings.ToTransportSettings(time.GetUtcNow().ToUnixTimeMilliseconds()), registry,
                new TcpActorTransportOptions { SystemName = Settings.ClusterName }, time, loggerFactory);
            var address = await transport.StartAsync(cancellationToken).ConfigureAwait(false);
            dispatchers = CreateDispatchers();
            var system = ActorSystem.Create(address.System, new ActorSystemSettings
            {
                Dispatchers = dispatchers,
                Host = address.Host,
                Port = address.Port,
                Transport = transport,
                Serialization = registry,
                LoggerFactory = loggerFactory,
                Time = time,
            });
            var endpoint = new NodeAddress(address.Host!, address.Port);
            var metrics = new NodeMetrics(system, endpoint.ToString());
            var view = MembershipView.Create(endpoint, Settings.SeedNodes, time.GetUtcNow());
            var membership = system.ActorOf(
                Props.Create(() => new MembershipActor(Settings.ClusterName, Settings.Name, Settings.Zone, Settings.HelloInterval, view)), MembershipActor.Name);
            var otlp = NodeMetrics.CreateOtlpProvider(Settings.Otlp);
            if (otlp is not null)
            {
                logger.OtlpOn(Settings.Otlp.Protocol, Settings.Otlp.Endpoint, Settings.Otlp.Interval);
            }
            var ops = system.ActorOf(Props.Create(() => new OpsActor(this)), OpsActor.Name);
            Volatile.Write(ref running, new Running(system, transport, membership, ops, metrics, otlp, time.GetUtcNow(), dispatchers));
            var context = new NodeContext(system, Settings, Config, membership, loggerFactory);
            foreach (var module in modules)
            {
                await module.StartAsync(context, cancellationToken).ConfigureAwait(false);
            }
            logger.Started(Settings.Name, address, Settings.Zone, Settings.SeedNodes.Count, string.Join(",", modules.Select(m => m.Name)));
            started = true;
        }
        finally
        {
            if (!started && Interlocked.Exchange(ref running, null) is { } partial)
            {
                // A module failed to start: close what is already open, so a failed start leaves no listener behind.
                await CloseAsync(partial).ConfigureAwait(false);
            }
            else if (!started)
            {
                DisposeAll(dispatchers);
            }
            Volatile.Write(ref phase, started ? Phase.Running : Phase.Stopped);
        }
    }

    /// <summary>Stops a running node; does nothing when it is not running (the host may stop it twice).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref phase, Phase.Stopping, Phase.Running) != Phase.Running)
        {
            return;
        }
        var node = Current;
        try
        {
            logger.Stopping(Settings.Name);
            try
            {
                foreach (var module in modules.Reverse())
                {
                    await LeaveAsync(module, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref running, null);
                await CloseAsync(node).ConfigureAwait(false);
            }
            logger.Stopped(Settings.Name);
        }
        finally
        {
            Volatile.Write(ref phase, Phase.Stopped);
        }
    }

    private static async Task CloseAsync(Running node)
    {
        await node.Transport.StopAsync().ConfigureAwait(false);
        await node.System.Terminate().ConfigureAwait(false);
        await node.Transport.DisposeAsync().ConfigureAwait(false);
        node.Metrics.Dispose();
        node.Otlp?.Dispose();
        DisposeAll(node.Dispatchers);
    }

    private static void DisposeAll(IReadOnlyDictionary<string, Dispatcher> dispatchers)
    {
        foreach (var dispatcher in dispatchers.Values)
        {
            dispatcher.Dispose();
        }
    }

    /// <summary>The dispatchers the modules ask for; two modules may not claim one name.</summary>
    private Dictionary<string, Dispatcher> CreateDispatchers()
    {
        var all = new Dictionary<string, Dispatcher>(StringComparer.Ordinal);
        foreach (var provider in modules.OfType<INodeDispatcherProvider>())
        {
            foreach (var (name, dispatcher) in provider.CreateDispatchers(Config))
            {
                if (!all.TryAdd(name, dispatcher))
                {
                    dispatcher.Dispose();
                    DisposeAll(all);
                    throw new InvalidOperationException($"Two modules configure a dispatcher named '{name}'");
                }
            }
        }

        return all;
    }

    /// <summary>
    /// Submits an app through this node (<paramref name="via"/> null) or through the node at <paramref name="via"/>
    /// (host:port) over TCP; either way the app runs at its root and its reports stream back to this node.
    /// </summary>
    public Task<Actors.Fl.AppHandle> SubmitAsync(Actors.Fl.AppSpec spec, string? via, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Fl.SubmitAsync(spec, via is null ? null : NodeAddress.Parse(via), cancellation);
    }

    public Task<Actors.Fl.AppHandle> SubmitAsync(Actors.Fl.AppSpec spec, CancellationToken cancellation = default) => SubmitAsync(spec, null, cancellation);

    public Task<Actors.Fl.AppStatus> GetAppStatusAsync(string app, CancellationToken cancellation = default) => Fl.GetStatusAsync(app, cancellation);

    private Modules.FlModule Fl => modules.OfType<Modules.FlModule>().FirstOrDefault()
        ?? throw new InvalidOperationException("This node runs no FL module; register it with services.AddTotoroFl()");

    public Task<Actors.Fl.AppHandle> SubmitAsync(Actors.Fl.TotoroApp app, string? via = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        return SubmitAsync(app.Build(), via, cancellation);
    }

    /// <summary>One module's leave, cut off at the shutdown timeout; a module that throws still lets the node close.</summary>
    private async Task LeaveAsync(INodeModule module, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(Settings.ShutdownTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            await module.LeaveAsync(linked.Token).WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            logger.LeaveTimedOut(module.Name, Settings.ShutdownTimeout);
        }
    }

    public Task<MembershipView> GetMembersAsync(CancellationToken cancellation = default) =>
        Current.Membership.Ask<MembershipView>(GetMembers.Instance, TimeSpan.FromSeconds(5), Current.System).WaitAsync(cancellation);

    public IReadOnlyList<MetricReading> CollectMetrics() => Current.Metrics.Collect();

    /// <summary>
    /// <c>node leave</c>: asks the host to stop after <paramref name="delay"/> (a timer message to the ops actor), so the
    /// answer reaches the operator before the transport closes. False when no host can be asked.
    /// </summary>
    internal bool ScheduleLeave(TimeSpan delay)
    {
        if (lifetime is null)
        {
            return false;
        }
        var node = Current;
        node.System.Scheduler.ScheduleTellOnce(delay, node.Ops, LeaveNow.Instance);
        return true;
    }

    /// <summary>Called by the ops actor when the leave timer fires.</summary>
    internal void StopHost() => lifetime?.StopApplication();

    /// <summary>Stops the node if it runs; safe to call more than once (the host disposes it as two services).</summary>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private static class Phase
    {
        public const int Stopped = 0;
        public const int Starting = 1;
        public const int Running = 2;
        public const int Stopping = 3;
    }

    private sealed record Running(ActorSystem System, TcpActorTransport Transport, IActorRef Membership, IActorRef Ops, NodeMetrics Metrics, MeterProvider? Otlp, DateTimeOffset StartedAt,
        IReadOnlyDictionary<string, Dispatcher> Dispatchers);
}
