using System.Collections;
using System.Diagnostics;
using System.Reflection;
using System.Runtime;

namespace Totoro.Node.Cli;

/// <summary>
/// Garbage-collector settings for a simulator process. They are environment variables for a child process, so that
/// <c>totoro sim ring</c> can use them while real nodes (<c>totoro node</c>) never see them (the runtime reads the
/// gen-0 budget only from the environment, and a server-GC setting in <c>runtimeconfig.json</c> would reach every
/// command).
/// </summary>
/// <param name="Name">The value of <c>--gc</c>: <c>sim</c> (the default for <c>sim ring</c>) or <c>default</c> (the runtime's own settings).</param>
/// <param name="Environment">Variables the child process gets.</param>
internal sealed record SimGcProfile(string Name, IReadOnlyList<KeyValuePair<string, string>> Environment)
{
    /// <summary>Set in the child (to the profile's name) so that it does not re-execute again.</summary>
    public const string ChildMarker = "TOTORO_SIM_GC";

    public static SimGcProfile Default { get; } = new("default", []);

    /// <summary>
    /// Server GC with two heaps: the single-threaded world leaves the second core idle, and server GC marks and
    /// compacts on both. At 10⁶ nodes it took the build from 548 s to 403 s (GC pause 233 → 104 s) at a peak RSS of
    /// 7.64 GiB. The heap count is fixed because it also turns off .NET's dynamic adaptation (DATAS), which starts
    /// server GC with one heap and grows it for memory, not speed: <c>DOTNET_gcServer=1</c> alone built in 544 s. The previous profile, a 512 MiB gen-0 budget on the workstation GC, was slower at 10⁵ (29.0 s against
    /// 24.7 s) and together with server GC no better than server GC alone. See docs/benchmarks.md, "Main after the
    /// session-6 merges".
    /// </summary>
    public static SimGcProfile Simulator { get; } = new("sim",
    [
        new("DOTNET_gcServer", "1"),
        new("DOTNET_GCHeapCount", "2"),
    ]);

    public static SimGcProfile Parse(string? text) => text switch
    {
        null or "sim" => Simulator,
        "default" => Default,
        _ => throw new FormatException($"--gc: '{text}' is not a GC profile (expected sim or default)"),
    };
}

/// <summary>The GC settings a simulator process actually ran with, for its JSON summary.</summary>
internal sealed record SimGcReport(string Profile, bool ServerGc, string LatencyMode, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>Profile: the one the parent chose, <c>environment</c> when the caller set GC variables, else <c>default</c>.</summary>
    public static SimGcReport Current()
    {
        var variables = SimGcLauncher.GcVariables(System.Environment.GetEnvironmentVariables());
        var profile = System.Environment.GetEnvironmentVariable(SimGcProfile.ChildMarker) ?? (variables.Count > 0 ? "environment" : "default");
        return new(profile, GCSettings.IsServerGC, GCSettings.LatencyMode.ToString(), variables);
    }
}

/// <summary>Re-executes <c>totoro sim ring</c> in a child process with <see cref="SimGcProfile.Simulator"/>'s environment.</summary>
internal static class SimGcLauncher
{
    /// <summary>
    /// The child's environment additions, or null when this process should run the command itself: not
    /// <c>sim ring</c>, <c>--gc default</c> or an unknown profile (the command reports it), already the child, or
    /// the caller set GC variables of their own (they win).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>>? ChildEnvironment(IReadOnlyList<string> args, IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        if (args.Count < 2 || args[0] != "sim" || args[1] != "ring" || environment.Contains(SimGcProfile.ChildMarker) || GcVariables(environment).Count > 0)
        {
            return null;
        }

        SimGcProfile profile;
        try
        {
            profile = SimGcProfile.Parse(RequestedProfile(args));
        }
        catch (FormatException)
        {
            return null;
        }

        return profile.Environment.Count == 0 ? null : [.. profile.Environment, new(SimGcProfile.ChildMarker, profile.Name)];
    }

    /// <summary>The value of the last <c>--gc X</c> or <c>--gc=X</c>, or null.</summary>
    public static string? RequestedProfile(IReadOnlyList<string> args)
    {
        string? value = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--gc" && i + 1 < args.Count)
            {
                value = args[++i];
            }
            else if (args[i].StartsWith("--gc=", StringComparison.Ordinal))
            {
                value = args[i]["--gc=".Length..];
            }
        }

        return value;
    }

    /// <summary>The runtime's GC variables in <paramref name="environment"/> (<c>DOTNET_GC…</c>, <c>DOTNET_gc…</c>, <c>COMPlus_GC…</c>), sorted by name.</summary>
    public static IReadOnlyDictionary<string, string> GcVariables(IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in environment)
        {
            var name = (string)entry.Key;
            if (name.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase) || name.StartsWith("COMPlus_GC", StringComparison.OrdinalIgnoreCase))
            {
                found[name] = entry.Value as string ?? "";
            }
        }

        return found;
    }

    /// <summary>Runs the command in a child process when <see cref="ChildEnvironment"/> says so; returns its exit code, else null.</summary>
    public static int? TryRunInChild(string[] args)
    {
        var environment = ChildEnvironment(args, System.Environment.GetEnvironmentVariables());
        if (environment is null || System.Environment.ProcessPath is not { } host)
        {
            return null;
        }

        // Under `dotnet totoro.dll` the host is dotnet and the assembly is the first argument; an apphost runs itself.
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host} for the simulator's GC settings (use --gc default)");
        child.WaitForExit();
        return child.ExitCode;
    }

}
