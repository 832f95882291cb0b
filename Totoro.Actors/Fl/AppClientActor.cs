using System.Diagnostics;
using System.Threading.Channels;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// The edge between a caller and a running app, on the submitting node: sends the submission, writes round
/// reports into the caller's channel (stamping wall time), completes the result, forwards cancellation to the root.
/// </summary>
internal sealed class AppClientActor : ReceiveActor
{
    private readonly AppSpec _spec;
    private readonly IActorRef _host;
    private readonly ChannelWriter<RoundReport> _reports;
    private readonly TaskCompletionSource<Address> _accepted;
    private readonly TaskCompletionSource<AppResult> _completion;
    private readonly long _startedAt;
    private Address? _root;
    private bool _cancelRequested;
    private long _lastRound;

    public AppClientActor(AppSpec spec, IActorRef host, ChannelWriter<RoundReport> reports, TaskCompletionSource<Address> accepted, TaskCompletionSource<AppResult> completion, long startedAt)
    {
        _spec = spec;
        _host = host;
        _reports = reports;
        _accepted = accepted;
        _completion = completion;
        _startedAt = startedAt;
        Receive<AppAccepted>(OnAccepted);
        Receive<AppRejected>(rejected => Complete(new AppResult(rejected.App, AppOutcome.Failed, 0, double.NaN, TimeSpan.Zero, rejected.Reason)));
        Receive<RoundReport>(OnReport);
        Receive<AppResult>(Complete);
        Receive<CancelRequested>(_ => OnCancel());
    }

    protected override void PreStart() => _host.Tell(new SubmitApp(_spec, Self), Self);

    private void OnAccepted(AppAccepted accepted)
    {
        _root = accepted.Root;
        _accepted.TrySetResult(accepted.Root);
        if (_cancelRequested)
        {
            OnCancel();
        }
    }

    /// <summary>
    /// Reports go out in round order, once each: after a fail-over the new root may redo a round whose report the old
    /// root sent just before it died (its checkpoint had not left yet); the first report of a round stands.
    /// </summary>
    private void OnReport(RoundReport report)
    {
        if (report.Round > _lastRound)
        {
            _lastRound = report.Round;
            _reports.TryWrite(report with { WallTime = Stopwatch.GetElapsedTime(_startedAt) });
        }
    }

    private void OnCancel()
    {
        _cancelRequested = true;
        if (_root is not null)
        {
            FlPaths.CoordinatorOn(Context.System, _root, _spec.Name).Tell(new CancelApp(_spec.Name), Self);
        }
    }

    private void Complete(AppResult result)
    {
        _accepted.TrySetException(new InvalidOperationException($"app '{result.App}' was not started: {result.Error ?? result.Outcome.ToString()}"));
        _reports.TryComplete();
        _completion.TrySetResult(result);
        Context.Stop(Self);
    }

    /// <summary>From the caller's handle: stop the app.</summary>
    internal sealed record CancelRequested : ILocalMessage;
}
