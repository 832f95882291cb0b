using Microsoft.Extensions.Logging;

namespace Totoro.Actors.Fl;

/// <summary>Source-generated log events of the FL roles (ids 4000–4099).</summary>
internal static partial class FlLog
{
    [LoggerMessage(4000, LogLevel.Information, "App {App} started on {Root} ({Topology})")]
    public static partial void AppStarted(ILogger logger, string app, string root, string topology);

    [LoggerMessage(4001, LogLevel.Warning, "App {App} rejected: {Reason}")]
    public static partial void AppRejected(ILogger logger, string app, string reason);

    [LoggerMessage(4002, LogLevel.Debug, "App {App} round {Round}: invited {Invited} workers")]
    public static partial void RoundStarted(ILogger logger, string app, long round, int invited);

    [LoggerMessage(4003, LogLevel.Information, "App {App} round {Round}: {Participants} updates, accuracy {Accuracy:F4}")]
    public static partial void RoundCompleted(ILogger logger, string app, long round, int participants, double accuracy);

    [LoggerMessage(4004, LogLevel.Information, "App {App} finished: {Outcome} after {Rounds} rounds")]
    public static partial void AppFinished(ILogger logger, string app, AppOutcome outcome, long rounds);

    [LoggerMessage(4005, LogLevel.Debug, "App {App} round {Round}: dropped a {Kind} message from {From}")]
    public static partial void Dropped(ILogger logger, string app, long round, string kind, string from);

    [LoggerMessage(4006, LogLevel.Debug, "App {App} round {Round}: deadline passed with {Pending} children pending")]
    public static partial void DeadlinePassed(ILogger logger, string app, long round, int pending);

    [LoggerMessage(4007, LogLevel.Warning, "App {App} round {Round}: aggregation failed: {Error}")]
    public static partial void AggregationFailed(ILogger logger, string app, long round, string error);

    [LoggerMessage(4008, LogLevel.Warning, "App {App}: data set {Dataset} is not in this node's catalog")]
    public static partial void DatasetMissing(ILogger logger, string app, string dataset);

    [LoggerMessage(4009, LogLevel.Warning, "App {App}: its root {Root} left; resuming here from the checkpoint of round {Round}")]
    public static partial void TakingOver(ILogger logger, string app, string root, long round);

    [LoggerMessage(4011, LogLevel.Error, "App {App} round {Round}: {Job} failed: {Error}")]
    public static partial void JobFailed(ILogger logger, string app, long round, string job, string error);

    [LoggerMessage(4010, LogLevel.Debug, "App {App} run {Run}: tree role stopped ({Why})")]
    public static partial void RoleStopped(ILogger logger, string app, long run, string why);
}
