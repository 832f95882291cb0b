using System.Diagnostics;
using System.Threading.Channels;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>Submits federated apps to the engine; reports stream back to the caller.</summary>
public interface IFlEngine
{
    /// <summary>Validates <paramref name="spec"/> (throws <see cref="AppSpecException"/>) and starts the app at its root.</summary>
    Task<AppHandle> SubmitAsync(AppSpec spec, CancellationToken cancellationToken = default);
}

/// <summary>A running app: its round reports as they come, its final result, and a way to stop it.</summary>
public sealed class AppHandle
{
    private readonly ChannelReader<RoundReport> _reports;
    private readonly Action _cancel;

    internal AppHandle(string app, ChannelReader<RoundReport> reports, Task<Address> accepted, Task<AppResult> completion, Action cancel)
    {
        App = app;
        _reports = reports;
        Accepted = accepted;
        Completion = completion;
        _cancel = cancel;
    }

    public string App { get; }

    /// <summary>The node whose coordinator took the app; faults when the app ended without starting (e.g. one of that name runs).</summary>
    public Task<Address> Accepted { get; }

    /// <summary>One report per completed round, in order; ends when the app ends.</summary>
    public IAsyncEnumerable<RoundReport> Reports => _reports.ReadAllAsync();

    public Task<AppResult> Completion { get; }

    /// <summary>Asks the root to stop the app; <see cref="Completion"/> then yields <see cref="AppOutcome.Cancelled"/>.</summary>
    public void Cancel() => _cancel();
}

/// <summary>
/// The in-process engine of one node: starts the node's FL host at <c>/user/fl</c>; a submission goes through a
/// client actor on this node, which the root's coordinator reports to.
/// </summary>
public sealed class FlEngine : IFlEngine
{
    private readonly ActorSystem _system;
    private long _submissions;

    private FlEngine(ActorSystem system) => _system = system;

    /// <summary>Starts the FL host on <paramref name="system"/>; every node of a deployment runs one.</summary>
    public static FlEngine Start(ActorSystem system, FlNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        system.ActorOf(Props.Create(() => new FlHostActor(options)), FlPaths.HostName);
        return new FlEngine(system);
    }

    public Task<AppHandle> SubmitAsync(AppSpec spec, CancellationToken cancellationToken = default) =>
        SubmitAsync(spec, _system.Address, cancellationToken);

    /// <summary>
    /// Submits through the FL host of <paramref name="via"/> (this node or a remote one, over the transport); the
    /// client actor stays on this node and the root streams its reports to it.
    /// </summary>
    public Task<AppHandle> SubmitAsync(AppSpec spec, Address via, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(via);
        spec.Validated();
        cancellationToken.ThrowIfCancellationRequested();
        var reports = Channel.CreateUnbounded<RoundReport>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
        var completion = new TaskCompletionSource<AppResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var accepted = new TaskCompletionSource<Address>(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = _system.ActorOf(
            Props.Create(() => new AppClientActor(spec, FlPaths.Host(_system, via), reports.Writer, accepted, completion, Stopwatch.GetTimestamp())),
            $"fl-client-{spec.Name}-{Interlocked.Increment(ref _submissions)}");
        var handle = new AppHandle(spec.Name, reports.Reader, accepted.Task, completion.Task, () => client.Tell(new AppClientActor.CancelRequested()));
        cancellationToken.Register(handle.Cancel);
        return Task.FromResult(handle);
    }
}
