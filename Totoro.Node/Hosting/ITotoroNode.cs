using Microsoft.Extensions.Hosting;
using Totoro.Kernel;
using Totoro.Kernel.Hocon;
using Totoro.Node.Membership;
using Totoro.Node.Ops;

namespace Totoro.Node.Hosting;

/// <summary>
/// A running Totoro node inside a .NET host: its settings, address, actor system, modules and ops palettes.
/// Registered by <c>services.AddTotoro(...)</c>; the host starts and stops it as an <see cref="IHostedService"/>.
/// </summary>
public interface ITotoroNode : IHostedService
{
    NodeSettings Settings { get; }

    /// <summary>The resolved configuration (reference defaults, file, environment).</summary>
    HoconConfig Config { get; }

    bool IsRunning { get; }

    /// <summary>The node's address (<c>totoro://totoro@host:port</c>); throws before start.</summary>
    Address Address { get; }

    /// <summary>The node's actor system; throws before start.</summary>
    ActorSystem System { get; }

    IReadOnlyList<INodeModule> Modules { get; }

    PaletteRegistry Palettes { get; }

    /// <summary>The seeds and peers this node knows, and which answered.</summary>
    Task<MembershipView> GetMembersAsync(CancellationToken cancellation = default);

    /// <summary>
    /// Submits a federated app (validated; throws <see cref="Actors.Fl.AppSpecException"/>) through this node's FL
    /// host, which passes it to the app's root. The handle streams one <see cref="Actors.Fl.RoundReport"/> per round
    /// and cancels, exactly like the embedded <see cref="Actors.Fl.FlEngine"/>. Needs the FL module.
    /// </summary>
    Task<Actors.Fl.AppHandle> SubmitAsync(Actors.Fl.AppSpec spec, CancellationToken cancellation = default);

    /// <summary>The same, through the node at <paramref name="via"/> (<c>host:port</c>, null: this node) over TCP.</summary>
    Task<Actors.Fl.AppHandle> SubmitAsync(Actors.Fl.AppSpec spec, string? via, CancellationToken cancellation = default);

    /// <summary>Builds <paramref name="app"/> and submits it (see <see cref="SubmitAsync(Actors.Fl.AppSpec, string?, CancellationToken)"/>).</summary>
    Task<Actors.Fl.AppHandle> SubmitAsync(Actors.Fl.TotoroApp app, string? via = null, CancellationToken cancellation = default);

    /// <summary>
    /// Asks <paramref name="app"/>'s root how it is doing: round, phase, last report while it runs; once it ended
    /// (and while the root remembers it, <c>totoro.fl.ended-app-history</c>), <see cref="Actors.Fl.AppStatus.Ended"/> says
    /// how. Works for any app, not only those submitted here. Throws <see cref="TimeoutException"/> naming the root if
    /// it does not answer within <c>totoro.fl.query-timeout</c>. Needs the FL module.
    /// </summary>
    Task<Actors.Fl.AppStatus> GetAppStatusAsync(string app, CancellationToken cancellation = default);

    /// <summary>One reading of every Totoro instrument of this node (transport, kernel, node).</summary>
    IReadOnlyList<MetricReading> CollectMetrics();
}
