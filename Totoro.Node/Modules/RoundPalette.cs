using Totoro.Node.Ops;
using static Totoro.Node.Modules.AppPalette;

namespace Totoro.Node.Modules;

/// <summary>The <c>round</c> palette: the current round of an app at its root, and the last finished one.</summary>
internal static class RoundPalette
{
    public static void Register(PaletteRegistry palettes, FlModule module) =>
        palettes.Add(new CommandPalette("round", "rounds of a federated app, as its root sees them",
        [
            new PaletteCommand("status", "the current round (phase, invited, admitted) and the last finished round's report",
                [new PaletteArgument("app", "the app's name")], call => StatusAsync(module, call)),
        ]));

    private static async Task<OpsTable> StatusAsync(FlModule module, PaletteInvocation call)
    {
        var app = call.Arguments[0];
        var status = await module.QueryAsync(app, call.Cancellation).ConfigureAwait(false);
        if (!status.Running && status.Ended is null)
        {
            throw new OpsCommandException($"no app '{app}' runs at its root {status.Root}");
        }

        var last = status.LastReport;
        var title = status.Ended is { } end
            ? $"{app} ended at {status.Root} ({Outcome(end.Outcome)} after {end.Rounds} rounds); its last round"
            : $"round {status.Round} of {app} at {status.Root}";
        return OpsTable.KeyValues(title,
        [
            ("app", app),
            ("round", Number(status.Round)),
            ("phase", status.Ended is { } ended ? "ended: " + Outcome(ended.Outcome) : status.Phase),
            ("invited", Number(status.Invited)),
            ("admitted", Number(status.Admitted)),
            ("clients-per-round", Number(status.ClientsPerRound)),
            ("last-round", last is null ? "-" : Number(last.Round)),
            ("last-accuracy", Accuracy(last?.Accuracy)),
            ("last-loss", Decimal(last?.Loss)),
            ("last-train-loss", Decimal(last?.TrainLoss)),
            ("last-participants", last is null ? "-" : Number(last.Participants)),
            ("last-stale-dropped", last is null ? "-" : Number(last.StaleDropped)),
            ("last-duplicates-dropped", last is null ? "-" : Number(last.DuplicatesDropped)),
            ("last-bytes-up", last is null ? "-" : Number(last.BytesUp)),
            ("last-bytes-down", last is null ? "-" : Number(last.BytesDown)),
            ("last-elapsed", last is null ? "-" : last.VirtualTime.ToString()),
        ]);
    }
}
