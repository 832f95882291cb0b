using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Totoro.Kernel.Hocon;

namespace Totoro.Node.Hosting;

/// <summary>Hosts a Totoro node in any .NET application built on <c>Microsoft.Extensions.Hosting</c>.</summary>
public static class TotoroServiceCollectionExtensions
{
    /// <summary>
    /// Adds a node configured from HOCON (read it with <see cref="NodeConfig.Load"/>; the reference defaults must be
    /// its fallback). The node starts and stops with the host; inject <see cref="ITotoroNode"/> to use it.
    /// </summary>
    public static IServiceCollection AddTotoro(this IServiceCollection services, HoconConfig config)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(config);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ITotoroNode>(provider => new TotoroNode(
            config,
            provider.GetServices<INodeModule>(),
            provider.GetService<ILoggerFactory>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetService<IHostApplicationLifetime>()));
        services.AddHostedService(provider => provider.GetRequiredService<ITotoroNode>());
        return services;
    }

    /// <summary>Adds a node configured from the <c>totoro</c> section of <paramref name="configuration"/> (see <see cref="NodeConfig.FromConfiguration"/>).</summary>
    public static IServiceCollection AddTotoro(this IServiceCollection services, IConfiguration configuration) =>
        services.AddTotoro(NodeConfig.FromConfiguration(configuration));

    /// <summary>
    /// Adds the ring and, after it, the FL module: every node then hosts FL roles, and
    /// <see cref="ITotoroNode.SubmitAsync(Actors.Fl.AppSpec, CancellationToken)"/> and the <c>app</c>/<c>round</c> palettes work.
    /// </summary>
    public static IServiceCollection AddTotoroFl(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<Modules.RingModule>();
        services.AddSingleton<INodeModule>(provider => provider.GetRequiredService<Modules.RingModule>());
        services.AddSingleton<INodeModule>(provider => new Modules.FlModule(provider.GetRequiredService<Modules.RingModule>()));
        return services;
    }

    /// <summary>Plugs a module (ring, forest, FL, or your own) into the node; modules start in registration order.</summary>
    public static IServiceCollection AddTotoroModule<TModule>(this IServiceCollection services)
        where TModule : class, INodeModule
    {
        services.AddSingleton<INodeModule, TModule>();
        return services;
    }
}
