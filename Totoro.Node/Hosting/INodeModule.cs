using Microsoft.Extensions.Logging;
using Totoro.Kernel;
using Totoro.Kernel.Hocon;
using Totoro.Node.Ops;

namespace Totoro.Node.Hosting;

/// <summary>
/// A layer that plugs into a node without touching the host: the ring, the forest, the FL engine. The node calls,
/// in order: <see cref="RegisterSerializers"/> and <see cref="RegisterPalettes"/> (before the actor system exists),
/// <see cref="StartAsync"/> (after the transport is up and membership started; create the module's actors here),
/// and on shutdown <see cref="LeaveAsync"/> in reverse registration order, bounded by <c>totoro.node.shutdown-timeout</c>,
/// before the transport closes. Register a module with <c>services.AddTotoroModule&lt;T&gt;()</c>.
/// </summary>
public interface INodeModule
{
    /// <summary>Short name shown by <c>node info</c>.</summary>
    string Name { get; }

    /// <summary>Adds the module's wire messages (manifests like <c>"ring.join.v1"</c>; <c>ring.</c> takes the control lane).</summary>
    void RegisterSerializers(SerializerRegistry registry);

    /// <summary>Adds the module's ops shell palettes (<c>ring</c>, <c>tree</c>, <c>app</c>, <c>round</c>).</summary>
    void RegisterPalettes(PaletteRegistry palettes);

    /// <summary>Parses the module's settings from <see cref="NodeContext.Config"/> and starts its actors.</summary>
    Task StartAsync(NodeContext context, CancellationToken cancellation);

    /// <summary>Leaves the cluster gracefully (hand off state to neighbours); cancelled when the shutdown timeout passes.</summary>
    Task LeaveAsync(CancellationToken cancellation);
}

/// <summary>What a module gets at start.</summary>
/// <param name="System">The node's actor system (TCP transport, thread-pool dispatcher).</param>
/// <param name="Settings">The node's settings.</param>
/// <param name="Config">The whole resolved HOCON, for the module's own section.</param>
/// <param name="Membership">The membership actor; Ask it <see cref="Membership.GetMembers"/> for the seeds and peers seen.</param>
/// <param name="LoggerFactory">The host's logging.</param>
public sealed record NodeContext(ActorSystem System, NodeSettings Settings, HoconConfig Config, IActorRef Membership, ILoggerFactory LoggerFactory);

/// <summary>
/// A module that runs work on its own dispatchers (e.g. FL training on dedicated threads, so heartbeats never wait
/// behind it). The node asks for them before it creates the actor system, and disposes them after it terminates.
/// </summary>
public interface INodeDispatcherProvider
{
    /// <summary>The dispatchers by the name <c>Props.WithDispatcher</c> uses, configured from <paramref name="config"/>.</summary>
    IReadOnlyDictionary<string, Dispatcher> CreateDispatchers(HoconConfig config);
}
