using System.Collections.Immutable;

namespace Totoro.Actors.Fl;

/// <summary>Ops → an app's root host (<c>/user/fl</c>): how is <paramref name="App"/> doing? Answered with <see cref="AppStatus"/>.</summary>
internal sealed record QueryApp(string App);

/// <summary>
/// The root's answer to <see cref="QueryApp"/>. <paramref name="Running"/> is false when no coordinator of that name
/// runs on <paramref name="Root"/>: then <paramref name="Ended"/> is how its last run there ended, with the other fields
/// as they were at the end, if the root still remembers it (<see cref="FlSettings.EndedAppHistory"/>), and otherwise
/// null with the other fields empty. <paramref name="Phase"/> is where the current round is (collecting, aggregating,
/// evaluating); <paramref name="LastReport"/> is the latest finished round.
/// </summary>
public sealed record AppStatus(
    string App,
    bool Running,
    string Root,
    long Run,
    long Round,
    string Phase,
    int RoundBudget,
    double? Target,
    int ClientsPerRound,
    int Invited,
    int Admitted,
    int Workers,
    string Topology,
    TimeSpan Elapsed,
    RoundReport? LastReport,
    AppResult? Ended = null)
{
    public static AppStatus NotRunning(string app, string root) =>
        new(app, false, root, 0, 0, "", 0, null, 0, 0, 0, 0, "", TimeSpan.Zero, null);
}

/// <summary>Ops → this node's <c>/user/fl</c>: which apps have a role here? Answered with <see cref="FlRoles"/>.</summary>
internal sealed record ListFlRoles : Kernel.ILocalMessage
{
    public static ListFlRoles Instance { get; } = new();
}

/// <summary>The apps with a coordinator or a tree role (aggregator, and worker below it) on this node.</summary>
internal sealed record FlRoles(ImmutableArray<string> Coordinated, ImmutableArray<string> InTree, string Topology) : Kernel.ILocalMessage
{
    /// <summary>Apps whose last run on this node (as root) ended and that it still remembers, newest last.</summary>
    public ImmutableArray<AppStatus> EndedHere { get; init; } = [];
}

/// <summary>
/// Coordinator → its host: the app ended (the coordinator stops next); status queries now answer with
/// <paramref name="Final"/> (not running, <see cref="AppStatus.Ended"/> set).
/// </summary>
internal sealed record CoordinatorFinished(string App, long Run, AppStatus Final) : Kernel.ILocalMessage;
