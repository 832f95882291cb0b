using Microsoft.Extensions.Logging;
using Totoro.Kernel;

namespace Totoro.Node.Hosting;

/// <summary>Log messages of the node host; event ids 6000-6049.</summary>
internal static partial class NodeLog
{
    [LoggerMessage(6000, LogLevel.Information, "Node {Name} up at {Address} (zone {Zone}, {Seeds} seed nodes, modules: {Modules})")]
    public static partial void Started(this ILogger logger, string name, Address address, string zone, int seeds, string modules);

    [LoggerMessage(6001, LogLevel.Information, "Node {Name} leaving: modules hand off, then the transport closes")]
    public static partial void Stopping(this ILogger logger, string name);

    [LoggerMessage(6002, LogLevel.Warning, "Module {Module} did not finish leaving within {Timeout}; shutting down anyway")]
    public static partial void LeaveTimedOut(this ILogger logger, string module, TimeSpan timeout);

    [LoggerMessage(6003, LogLevel.Information, "Node {Name} stopped")]
    public static partial void Stopped(this ILogger logger, string name);

    [LoggerMessage(6004, LogLevel.Information, "Exporting metrics over OTLP ({Protocol}) to {Endpoint} every {Interval}")]
    public static partial void OtlpOn(this ILogger logger, string protocol, string endpoint, TimeSpan interval);
}
