using Totoro.Node.Hosting;

namespace Totoro.Node.Ops;

/// <summary>
/// The ops shell's commands, grouped in palettes (<c>node</c>, <c>cluster</c>, and whatever modules add: <c>ring</c>,
/// <c>tree</c>, <c>app</c>, <c>round</c>). The node serves the descriptions to <c>totoro cmd</c>, which builds its help
/// and checks arguments from them. Palettes are added while the node is constructed (one thread: the node asks each
/// module in turn); the node then seals the registry, and from then on it is read-only and safe to read anywhere.
/// </summary>
public sealed class PaletteRegistry
{
    private readonly SortedDictionary<string, CommandPalette> palettes = new(StringComparer.Ordinal);
    private bool sealedForStart;

    public IReadOnlyList<CommandPalette> Palettes => [.. palettes.Values];

    public PaletteRegistry Add(CommandPalette palette)
    {
        ArgumentNullException.ThrowIfNull(palette);
        if (sealedForStart)
        {
            throw new InvalidOperationException($"Palette '{palette.Name}' added after the node was built");
        }
        if (!palettes.TryAdd(palette.Name, palette))
        {
            throw new InvalidOperationException($"A palette named '{palette.Name}' is already registered");
        }
        return this;
    }

    public bool TryGet(string name, out CommandPalette palette) => palettes.TryGetValue(name, out palette!);

    internal void Seal() => sealedForStart = true;
}

/// <summary>A named group of commands.</summary>
public sealed record CommandPalette(string Name, string Description, IReadOnlyList<PaletteCommand> Commands)
{
    public PaletteCommand? Find(string command) => Commands.FirstOrDefault(c => c.Name == command);
}

/// <summary>One command: its arguments (required ones first) and the handler that runs on the node.</summary>
public sealed record PaletteCommand(string Name, string Description, IReadOnlyList<PaletteArgument> Arguments, Func<PaletteInvocation, Task<OpsTable>> Handler)
{
    /// <summary>Null when <paramref name="arguments"/> fit; otherwise what is wrong, for the caller.</summary>
    public string? Check(IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var required = Arguments.Count(a => a.Required);
        if (arguments.Count < required)
        {
            return $"missing argument {Arguments[arguments.Count].Name}; usage: {Usage}";
        }
        return arguments.Count > Arguments.Count ? $"too many arguments ({arguments.Count}); usage: {Usage}" : null;
    }

    public string Usage => string.Join(' ', Arguments.Select(a => a.Required ? a.Name.ToUpperInvariant() : $"[{a.Name.ToUpperInvariant()}]").Prepend(Name));
}

/// <param name="LocalFile">The argument names a file on the operator's machine: <c>totoro cmd</c> reads it and sends its
/// text (see <see cref="FileArgument"/>), so the handler never depends on the node's file system.</param>
public sealed record PaletteArgument(string Name, string Description, bool Required = true, bool LocalFile = false);

/// <summary>How <c>totoro cmd</c> sends a local file argument: <c>@file:PATH</c>, a newline, then the file's text.</summary>
public static class FileArgument
{
    private const string Prefix = "@file:";

    public static string Encode(string path, string text) => $"{Prefix}{path}\n{text}";

    /// <summary>The path and text of an encoded argument; false for a plain argument (a path on the node).</summary>
    public static bool TryDecode(string argument, out string path, out string text)
    {
        ArgumentNullException.ThrowIfNull(argument);
        var newline = argument.IndexOf('\n', StringComparison.Ordinal);
        if (!argument.StartsWith(Prefix, StringComparison.Ordinal) || newline < 0)
        {
            (path, text) = (argument, "");
            return false;
        }

        (path, text) = (argument[Prefix.Length..newline], argument[(newline + 1)..]);
        return true;
    }
}

/// <summary>What a handler gets: the node and the (already checked) arguments.</summary>
public sealed record PaletteInvocation(ITotoroNode Node, IReadOnlyList<string> Arguments, CancellationToken Cancellation);

/// <summary>A command's answer: a table (a list of key/value pairs is a two-column table).</summary>
public sealed record OpsTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    public static OpsTable KeyValues(string title, IEnumerable<(string Key, string Value)> pairs) =>
        new(title, ["key", "value"], [.. pairs.Select(p => (IReadOnlyList<string>)[p.Key, p.Value])]);
}
