using System.Globalization;
using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Node.Ops;

namespace Totoro.Node.Modules;

/// <summary>The <c>app</c> palette: federated apps seen from this node — list, submit a spec file, status, cancel.</summary>
internal static class AppPalette
{
    public static void Register(PaletteRegistry palettes, FlModule module) =>
        palettes.Add(new CommandPalette("app", "federated apps (Layer 3): list, submit a HOCON spec file, status, cancel",
        [
            new PaletteCommand("list", "apps with a role on this node (coordinator, tree) or submitted from it", [], call => ListAsync(module, call)),
            new PaletteCommand("submit", "submit the app in a HOCON spec file (docs/fl.md); its root is the ring member closest to hash(name)",
                [new PaletteArgument("file", "the app spec file (read by totoro cmd on your machine)", LocalFile: true)], call => SubmitAsync(module, call)),
            new PaletteCommand("status", "an app's state at its root: round, phase, latest accuracy",
                [new PaletteArgument("name", "the app's name")], call => StatusAsync(module, call)),
            new PaletteCommand("cancel", "stop an app after its current step; its handle ends with outcome Cancelled",
                [new PaletteArgument("name", "the app's name")], call => CancelAsync(module, call)),
        ]));

    private static async Task<OpsTable> ListAsync(FlModule module, PaletteInvocation call)
    {
        var node = module.Running;
        var roles = await node.Host.Ask<FlRoles>(ListFlRoles.Instance, node.Settings.QueryTimeout, node.System).WaitAsync(call.Cancellation).ConfigureAwait(false);
        var submitted = module.Submissions.GroupBy(s => s.Spec.Name).ToDictionary(g => g.Key, g => g.Last());
        var endedHere = roles.EndedHere.ToDictionary(e => e.App);
        var names = roles.Coordinated.Concat(roles.InTree).Concat(endedHere.Keys).Concat(submitted.Keys).Distinct().Order(StringComparer.Ordinal);
        var rows = new List<IReadOnlyList<string>>();
        foreach (var name in names)
        {
            var here = new[]
            {
                roles.Coordinated.Contains(name) ? "coordinator"
                    : endedHere.TryGetValue(name, out var record) ? (record.Root == node.System.Address.ToString() ? "coordinator (ended)" : "end record (successor)")
                    : null,
                roles.InTree.Contains(name) ? "tree" : null,
                submitted.ContainsKey(name) ? "submitted-here" : null,
            }.OfType<string>();
            var (state, round, accuracy) = ("-", "-", "-");
            if (roles.Coordinated.Contains(name))
            {
                var status = await node.Host.Ask<AppStatus>(new QueryApp(name), node.Settings.QueryTimeout, node.System).WaitAsync(call.Cancellation).ConfigureAwait(false);
                (state, round, accuracy) = status.Running ? ("running", Number(status.Round), Accuracy(status.LastReport?.Accuracy)) : ("ended", "-", "-");
            }
            else if (endedHere.TryGetValue(name, out var ended) && ended.Ended is { } end)
            {
                (state, round, accuracy) = (Outcome(end.Outcome), Number(end.Rounds), Accuracy(end.FinalAccuracy));
            }
            else if (submitted.TryGetValue(name, out var submission) && submission.Handle.Completion.IsCompletedSuccessfully)
            {
                var result = submission.Handle.Completion.Result;
                (state, round, accuracy) = (Outcome(result.Outcome), Number(result.Rounds), Accuracy(result.FinalAccuracy));
            }
            else if (submitted.ContainsKey(name))
            {
                state = "running";
            }

            rows.Add([name, module.Topology.Root(name).ToString(), string.Join(",", here), state, round, accuracy]);
        }

        return new OpsTable($"apps on {node.System.Address} ({roles.Topology} topology, {module.Topology.Members.Length} members)",
            ["app", "root", "here", "state", "round", "accuracy"], rows);
    }

    private static async Task<OpsTable> SubmitAsync(FlModule module, PaletteInvocation call)
    {
        var node = module.Running;
        AppSpec spec;
        string source;
        try
        {
            spec = FileArgument.TryDecode(call.Arguments[0], out var path, out var text)
                ? AppSpecFile.Parse(text.Length <= node.Settings.SpecFileMaxBytes ? text : throw TooLarge(path, text.Length, node.Settings.SpecFileMaxBytes), path)
                : AppSpecFile.Load(path, node.Settings.SpecFileMaxBytes);
            source = path;
        }
        catch (AppSpecException invalid)
        {
            throw new OpsCommandException("invalid app spec:\n  " + string.Join("\n  ", invalid.Errors));
        }

        var handle = await module.SubmitAsync(spec, null, call.Cancellation).ConfigureAwait(false);
        // Nobody reads this handle's reports (status comes from the root); drain them so a long app holds no backlog.
        _ = DiscardAsync(handle);
        Address root;
        try
        {
            root = await handle.Accepted.WaitAsync(node.Settings.QueryTimeout, call.Cancellation).ConfigureAwait(false);
        }
        catch (InvalidOperationException refused)
        {
            throw new OpsCommandException(refused.Message);
        }
        catch (TimeoutException)
        {
            throw new OpsCommandException($"'{spec.Name}' was sent toward its root {module.Topology.Root(spec.Name)}, which did not accept it within {node.Settings.QueryTimeout}");
        }

        return OpsTable.KeyValues($"submitted {spec.Name} from {source}",
        [
            ("app", spec.Name),
            ("root", root.ToString()),
            ("model", spec.Model),
            ("dataset", spec.Dataset),
            ("rounds", Number(spec.Rounds)),
            ("clients-per-round", Number(spec.ClientsPerRound)),
            ("target-accuracy", Accuracy(spec.TargetAccuracy)),
        ]);
    }

    private static async Task<OpsTable> StatusAsync(FlModule module, PaletteInvocation call)
    {
        var name = call.Arguments[0];
        var status = await module.QueryAsync(name, call.Cancellation).ConfigureAwait(false);
        if (!status.Running && status.Ended is { } end)
        {
            return OpsTable.KeyValues($"app {name} (ended at its root)",
            [
                ("app", name), ("root", status.Root), ("state", Outcome(end.Outcome)), ("rounds", Number(end.Rounds)),
                ("accuracy", Accuracy(end.FinalAccuracy)), ("loss", Decimal(status.LastReport?.Loss)), ("round-budget", Number(status.RoundBudget)),
                ("target-accuracy", Accuracy(status.Target)), ("clients-per-round", Number(status.ClientsPerRound)), ("workers", Number(status.Workers)),
                ("topology", status.Topology), ("elapsed", end.VirtualTime.ToString()), ("error", end.Error ?? ""),
            ]);
        }

        if (!status.Running)
        {
            var ended = module.Submissions.LastOrDefault(s => s.Spec.Name == name && s.Handle.Completion.IsCompletedSuccessfully);
            if (ended is null)
            {
                throw new OpsCommandException($"no app '{name}' runs at its root {status.Root}");
            }

            var result = ended.Handle.Completion.Result;
            return OpsTable.KeyValues($"app {name} (ended; submitted from this node)",
            [
                ("app", name), ("state", Outcome(result.Outcome)), ("rounds", Number(result.Rounds)), ("accuracy", Accuracy(result.FinalAccuracy)),
                ("virtual-time", result.VirtualTime.ToString()), ("error", result.Error ?? ""),
            ]);
        }

        return OpsTable.KeyValues($"app {name}",
        [
            ("app", name), ("root", status.Root), ("state", "running"), ("run", Number(status.Run)), ("round", Number(status.Round)),
            ("phase", status.Phase), ("round-budget", Number(status.RoundBudget)), ("target-accuracy", Accuracy(status.Target)),
            ("clients-per-round", Number(status.ClientsPerRound)), ("workers", Number(status.Workers)), ("topology", status.Topology),
            ("elapsed", status.Elapsed.ToString()), ("accuracy", Accuracy(status.LastReport?.Accuracy)),
            ("loss", Decimal(status.LastReport?.Loss)),
        ]);
    }

    private static async Task<OpsTable> CancelAsync(FlModule module, PaletteInvocation call)
    {
        var name = call.Arguments[0];
        var status = await module.QueryAsync(name, call.Cancellation).ConfigureAwait(false);
        if (!status.Running)
        {
            throw new OpsCommandException($"no app '{name}' runs at its root {status.Root}");
        }

        var node = module.Running;
        var root = ActorPath.Parse($"{status.Root}/user/{FlPaths.HostName}/{FlPaths.Coordinator(name)}");
        node.System.Resolve(root).Tell(new CancelApp(name));
        return OpsTable.KeyValues($"cancelling {name}", [("app", name), ("root", status.Root), ("round", Number(status.Round)), ("state", "cancel sent")]);
    }

    private static async Task DiscardAsync(AppHandle handle)
    {
        await foreach (var _ in handle.Reports.ConfigureAwait(false))
        {
        }
    }

    private static AppSpecException TooLarge(string path, int length, long max) =>
        new([$"{path}: {length} characters is larger than totoro.fl.spec-file-max-size ({max} bytes)"]);

    internal static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string Accuracy(double? value) => value is { } v && !double.IsNaN(v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    internal static string Decimal(double? value) => value is { } v && !double.IsNaN(v) ? v.ToString("0.####", CultureInfo.InvariantCulture) : "-";

    internal static string Outcome(AppOutcome outcome) => outcome switch
    {
        AppOutcome.TargetReached => "target-reached",
        AppOutcome.BudgetExhausted => "budget-exhausted",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
