namespace Totoro.Node.Ops;

/// <summary>
/// The interactive shell's line input on a terminal: typing, Backspace/Delete, Left/Right/Home/End, Up/Down through
/// the history (loaded from the history file), Enter; Ctrl-D on an empty line ends the session. Keys come from an
/// injected source (<see cref="Console.ReadKey(bool)"/> in the shell, a script in tests).
/// </summary>
internal sealed class LineEditor(Func<ConsoleKeyInfo> readKey, TextWriter echo, IEnumerable<string> history)
{
    private readonly List<string> history = [.. history];

    /// <summary>Adds a line to the in-memory history (the shell appends it to the file).</summary>
    public void Remember(string line)
    {
        if (line.Length > 0 && (history.Count == 0 || history[^1] != line))
        {
            history.Add(line);
        }
    }

    /// <summary>The line typed, or null at Ctrl-D on an empty line.</summary>
    public string? ReadLine(string prompt)
    {
        var buffer = new List<char>();
        var cursor = 0;
        var recalled = history.Count;
        Redraw(prompt, buffer, cursor);
        while (true)
        {
            var key = readKey();
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    echo.WriteLine();
                    return new string([.. buffer]);
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control):
                    if (buffer.Count == 0)
                    {
                        echo.WriteLine();
                        return null;
                    }
                    break;
                case ConsoleKey.Backspace when cursor > 0:
                    buffer.RemoveAt(--cursor);
                    break;
                case ConsoleKey.Delete when cursor < buffer.Count:
                    buffer.RemoveAt(cursor);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < buffer.Count:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = buffer.Count;
                    break;
                case ConsoleKey.UpArrow when recalled > 0:
                    buffer = [.. history[--recalled]];
                    cursor = buffer.Count;
                    break;
                case ConsoleKey.DownArrow when recalled < history.Count:
                    recalled++;
                    buffer = recalled == history.Count ? [] : [.. history[recalled]];
                    cursor = buffer.Count;
                    break;
                default:
                    if (!char.IsControl(key.KeyChar))
                    {
                        buffer.Insert(cursor++, key.KeyChar);
                    }
                    break;
            }
            Redraw(prompt, buffer, cursor);
        }
    }

    /// <summary>Rewrites the whole line, clears what was after it, and puts the terminal cursor back at <paramref name="cursor"/>.</summary>
    private void Redraw(string prompt, List<char> buffer, int cursor)
    {
        echo.Write($"\r{prompt}{new string([.. buffer])}\u001b[K");
        if (cursor < buffer.Count)
        {
            echo.Write($"\u001b[{buffer.Count - cursor}D");
        }
        echo.Flush();
    }
}
