using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace Totoro.Node.Ops;

/// <summary>How the shell prints: a Spectre table on a terminal, plain aligned text when piped or NO_COLOR, or JSON.</summary>
internal enum OpsOutput
{
    Rich,
    Plain,
    Json,
}

/// <summary>
/// <c>totoro cmd</c>: checks a command against the palettes the node described, runs it, renders the answer. With no
/// command it reads lines (a prompt on a terminal) until <c>exit</c> or end of input, appending each to a history file.
/// </summary>
internal sealed class OpsShell(OpsClient client, TextWriter output, TextWriter error, OpsOutput mode)
{
    /// <summary>Runs one command; 0 on success, 1 when the node or the arguments refused it.</summary>
    public async Task<int> RunAsync(string palette, string command, IReadOnlyList<string> args)
    {
        if (Validate(palette, command, args) is { } problem)
        {
            return Fail(problem);
        }
        if (ReadLocalFiles(palette, command, args, out var sent) is { } unreadable)
        {
            return Fail(unreadable);
        }
        var reply = await client.RequestAsync(palette, command, sent).ConfigureAwait(false);
        if (reply.Error.Length > 0)
        {
            return Fail(reply.Error);
        }
        Render(palette, command, OpsJson.ReadTable(reply.Json));
        return 0;
    }

    /// <summary>
    /// The read-eval-print loop over lines from <paramref name="readLine"/> (given the prompt; null ends the session);
    /// each line goes to <paramref name="remember"/>. Returns the status of the last command.
    /// </summary>
    public async Task<int> RunInteractiveAsync(Func<string, Task<string?>> readLine, Func<string, Task> remember)
    {
        var status = 0;
        while (true)
        {
            var line = await readLine($"totoro {client.Target}> ").ConfigureAwait(false);
            if (line is null)
            {
                return status;
            }
            var words = Split(line);
            if (words.Count == 0)
            {
                continue;
            }
            await remember(line.Trim()).ConfigureAwait(false);
            switch (words[0])
            {
                case "exit" or "quit":
                    return status;
                case "help":
                    status = Help(words.Count > 1 ? words[1] : null);
                    break;
                default:
                    try
                    {
                        status = await RunAsync(words[0], words.Count > 1 ? words[1] : "", [.. words.Skip(2)]).ConfigureAwait(false);
                    }
                    catch (OpsClientException failure)
                    {
                        status = Fail(failure.Message);
                    }
                    break;
            }
        }
    }

    /// <summary>Lists palettes, or one palette's commands with their usage.</summary>
    public int Help(string? palette)
    {
        if (palette is null)
        {
            Render("help", "", new OpsTable("palettes (help PALETTE for its commands; exit to leave)", ["palette", "description"],
                [.. client.Palettes.Select(p => (IReadOnlyList<string>)[p.Name, p.Description])]));
            return 0;
        }
        var found = client.Palettes.FirstOrDefault(p => p.Name == palette);
        if (found is null)
        {
            return Fail($"unknown palette '{palette}'; the node serves: {string.Join(", ", client.Palettes.Select(p => p.Name))}");
        }
        Render("help", palette, new OpsTable($"{palette}: {found.Description}", ["command", "description"],
            [.. found.Commands.Select(c => (IReadOnlyList<string>)[$"{palette} {c.Usage}", c.Description])]));
        return 0;
    }

    private string? Validate(string palette, string command, IReadOnlyList<string> args)
    {
        var found = client.Palettes.FirstOrDefault(p => p.Name == palette);
        if (found is null)
        {
            return $"unknown palette '{palette}'; the node serves: {string.Join(", ", client.Palettes.Select(p => p.Name))}";
        }
        var known = found.Commands.FirstOrDefault(c => c.Name == command);
        if (known is null)
        {
            return command.Length == 0
                ? $"palette '{palette}' needs a command: {string.Join(", ", found.Commands.Select(c => c.Name))}"
                : $"palette '{palette}' has no command '{command}'; it has: {string.Join(", ", found.Commands.Select(c => c.Name))}";
        }
        return known.Check(args);
    }

    /// <summary>Replaces each local-file argument with the file's text (the node cannot read the operator's disk).</summary>
    private string? ReadLocalFiles(string palette, string command, IReadOnlyList<string> args, out IReadOnlyList<string> sent)
    {
        const long maxBytes = 16L << 20;
        var described = client.Palettes.First(p => p.Name == palette).Commands.First(c => c.Name == command).Arguments;
        var result = args.ToArray();
        sent = result;
        for (var i = 0; i < result.Length && i < described.Count; i++)
        {
            if (!described[i].LocalFile)
            {
                continue;
            }
            var file = new FileInfo(result[i]);
            if (!file.Exists)
            {
                return $"{result[i]}: no such file";
            }
            if (file.Length > maxBytes)
            {
                return $"{result[i]}: {file.Length} bytes is more than the shell sends ({maxBytes} bytes)";
            }
            result[i] = FileArgument.Encode(result[i], File.ReadAllText(file.FullName));
        }
        return null;
    }

    private int Fail(string message)
    {
        if (mode == OpsOutput.Json)
        {
            WriteJsonDocument(json =>
            {
                json.WriteStartObject();
                json.WriteString("error", message);
                json.WriteEndObject();
            });
        }
        else
        {
            error.WriteLine($"error: {message}");
        }
        return 1;
    }

    private void Render(string palette, string command, OpsTable table)
    {
        switch (mode)
        {
            case OpsOutput.Json:
                WriteJson(palette, command, table);
                break;
            case OpsOutput.Plain:
                WritePlain(table);
                break;
            default:
                WriteRich(table);
                break;
        }
    }

    private void WriteJson(string palette, string command, OpsTable table)
    {
        WriteJsonDocument(json =>
        {
            json.WriteStartObject();
            json.WriteString("node", client.Target.ToString());
            json.WriteString("palette", palette);
            json.WriteString("command", command);
            json.WriteString("title", table.Title);
            json.WriteStartArray("rows");
            foreach (var row in table.Rows)
            {
                json.WriteStartObject();
                for (var i = 0; i < table.Columns.Count && i < row.Count; i++)
                {
                    json.WriteString(table.Columns[i], row[i]);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private void WritePlain(OpsTable table)
    {
        var widths = table.Columns.Select((c, i) => table.Rows.Select(r => i < r.Count ? r[i].Length : 0).Append(c.Length).Max()).ToArray();
        output.WriteLine(table.Title);
        output.WriteLine(Line(table.Columns.Select(c => c.ToUpperInvariant()).ToArray(), widths));
        foreach (var row in table.Rows)
        {
            output.WriteLine(Line(row, widths));
        }
    }

    private static string Line(IReadOnlyList<string> cells, int[] widths)
    {
        var text = new StringBuilder();
        for (var i = 0; i < widths.Length; i++)
        {
            var cell = i < cells.Count ? cells[i] : "";
            text.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
        }
        return text.ToString().TrimEnd();
    }

    private void WriteRich(OpsTable table)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        var rendered = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(table.Title));
        foreach (var column in table.Columns)
        {
            rendered.AddColumn(new TableColumn($"[bold]{Markup.Escape(column)}[/]"));
        }
        foreach (var row in table.Rows)
        {
            rendered.AddRow([.. row.Select(cell => new Text(cell))]);
        }
        console.Write(rendered);
    }

    /// <summary>Splits a line into words; double quotes keep spaces inside one word.</summary>
    internal static List<string> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    any = false;
                }
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }
        if (any)
        {
            words.Add(word.ToString());
        }
        return words;
    }

    private void WriteJsonDocument(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
