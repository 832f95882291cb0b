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

    /// <summary>One reading of every Totoro instrument of this node (transport, kernel, node).</summary>
    IReadOnlyList<MetricReading> CollectMetrics();
}
