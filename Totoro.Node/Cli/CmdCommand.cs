using System.CommandLine;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Node.Hosting;
using Totoro.Node.Ops;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Cli;

/// <summary>
/// <c>totoro cmd HOST:PORT [PALETTE COMMAND [ARGS…]] [--json]</c>: the ops shell. Without a command it is interactive.
/// The cluster secret comes from <c>--config</c> (a node's file), <c>--secret-file</c>, or <c>TOTORO_SECRET</c>; the
/// admin token, when the node requires one, from <c>--token</c>, that config, or <c>TOTORO_ADMIN_TOKEN</c>.
/// </summary>
internal static class CmdCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("node") { Description = "host:port of the node" };
        var words = new Argument<string[]>("command") { Description = "PALETTE COMMAND [ARGS…]; omit for the interactive shell", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (for scripts)" };
        var config = new Option<FileInfo?>("--config") { Description = "A node's HOCON file to take the cluster secret and admin token from" };
        var secretFile = new Option<FileInfo?>("--secret-file") { Description = "File holding the cluster secret" };
        var token = new Option<string?>("--token") { Description = "Admin token, when the node requires one" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for an answer", DefaultValueFactory = _ => 10 };
        var history = new Option<FileInfo?>("--history") { Description = "History file of the interactive shell (default ~/.totoro_history)" };
        var command = new Command("cmd", "Ops shell: ask a node about itself, its cluster, and its modules' palettes")
        {
            target, words, json, config, secretFile, token, timeout, history,
        };
        command.SetAction(async (result, _) =>
        {
            var invocation = new CmdInvocation(
                result.GetValue(target)!, result.GetValue(words) ?? [], result.GetValue(json), result.GetValue(config)?.FullName,
                result.GetValue(secretFile)?.FullName, result.GetValue(token), result.GetValue(timeout), result.GetValue(history)?.FullName);
            return await RunAsync(invocation, Console.In, Console.Out, Console.Error, Environment.GetEnvironmentVariable, TimeProvider.System);
        });
        return command;
    }

    internal sealed record CmdInvocation(string Target, IReadOnlyList<string> Words, bool Json, string? ConfigPath, string? SecretFile, string? Token, int TimeoutSeconds, string? HistoryFile);

    /// <summary>The whole command with its streams and environment injected, so tests drive it in-process.</summary>
    internal static async Task<int> RunAsync(CmdInvocation call, TextReader input, TextWriter output, TextWriter error, Func<string, string?> environment, TimeProvider time)
    {
        if (!NodeSettings.TryParseEndpoint(call.Target, out var endpoint))
        {
            return await UsageErrorAsync(call, output, error, $"'{call.Target}' is not host:port");
        }
        if (call.TimeoutSeconds is < 1 or > 3600)
        {
            return await UsageErrorAsync(call, output, error, "--timeout must be 1..3600 seconds");
        }
        string secret;
        string token;
        try
        {
            (secret, token) = Credentials(call, environment);
        }
        catch (Exception e) when (e is SettingsException or HoconException or IOException or UnauthorizedAccessException)
        {
            return await UsageErrorAsync(call, output, error, e.Message);
        }
        var mode = call.Json ? OpsOutput.Json
            : environment("NO_COLOR") is { Length: > 0 } || Console.IsOutputRedirected || output != Console.Out ? OpsOutput.Plain
            : OpsOutput.Rich;
        try
        {
            await using var client = await OpsClient.ConnectAsync(endpoint, secret, token, TimeSpan.FromSeconds(call.TimeoutSeconds), time);
            var shell = new OpsShell(client, output, error, mode);
            if (call.Words.Count == 0)
            {
                return await InteractiveAsync(shell, input, output, call.HistoryFile ?? HistoryPath(environment));
            }
            return await shell.RunAsync(call.Words[0], call.Words.Count > 1 ? call.Words[1] : "", [.. call.Words.Skip(2)]);
        }
        catch (OpsClientException e)
        {
            return await UsageErrorAsync(call, output, error, e.Message);
        }
        catch (TcpTransportSettingsException e)
        {
            return await UsageErrorAsync(call, output, error, e.Message);
        }
    }

    /// <summary>A problem before any command ran (exit code 2): on stderr, or as <c>{"error": ...}</c> on stdout with --json.</summary>
    private static async Task<int> UsageErrorAsync(CmdInvocation call, TextWriter output, TextWriter error, string message)
    {
        if (call.Json)
        {
            await output.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }));
        }
        else
        {
            await error.WriteLineAsync($"totoro cmd: {message}");
        }
        return 2;
    }

    /// <summary>
    /// On a terminal: help first, then a line editor with up-arrow history. Piped input: plain lines, no prompt.
    /// Either way every line is appended to the history file (when there is one).
    /// </summary>
    private static async Task<int> InteractiveAsync(OpsShell shell, TextReader input, TextWriter output, string? historyFile)
    {
        var terminal = input == Console.In && !Console.IsInputRedirected;
        LineEditor? editor = null;
        if (terminal)
        {
            shell.Help(null);
            var previous = historyFile is not null && File.Exists(historyFile) ? await File.ReadAllLinesAsync(historyFile) : [];
            editor = new LineEditor(() => Console.ReadKey(intercept: true), output, previous.TakeLast(500));
        }
        return await shell.RunInteractiveAsync(
            prompt => editor is null ? input.ReadLineAsync() : Task.FromResult(editor.ReadLine(prompt)),
            async line =>
            {
                editor?.Remember(line);
                if (historyFile is not null)
                {
                    await File.AppendAllTextAsync(historyFile, line + "\n");
                }
            });
    }

    private static (string Secret, string Token) Credentials(CmdInvocation call, Func<string, string?> environment)
    {
        NodeSettings? node = null;
        if (call.ConfigPath is not null)
        {
            node = NodeSettings.FromConfig(NodeConfig.Load(call.ConfigPath, environment));
        }
        var secret = call.SecretFile is not null ? File.ReadAllText(call.SecretFile).Trim()
            : node?.ClusterSecret.Value ?? environment("TOTORO_SECRET")
            ?? throw new SettingsException("no cluster secret: pass --config NODE.conf or --secret-file FILE, or export TOTORO_SECRET");
        var token = call.Token ?? node?.AdminToken?.Value ?? environment("TOTORO_ADMIN_TOKEN") ?? "";
        return (secret, token);
    }

    private static string? HistoryPath(Func<string, string?> environment) =>
        environment("TOTORO_HISTORY") ?? (environment("HOME") is { Length: > 0 } home ? Path.Combine(home, ".totoro_history") : null);
}
