using Totoro.Node.Ops;

namespace Totoro.Tests.Node.Ops;

public sealed class LineEditorTests
{
    private static ConsoleKeyInfo Key(ConsoleKey key, char c = '\0', bool control = false) => new(c, key, shift: false, alt: false, control);

    private static IEnumerable<ConsoleKeyInfo> Type(string text) => text.Select(c => Key(ConsoleKey.A, c));

    private static LineEditor Editor(IEnumerable<ConsoleKeyInfo> keys, params string[] history)
    {
        var queue = new Queue<ConsoleKeyInfo>(keys);
        return new LineEditor(() => queue.Dequeue(), TextWriter.Null, history);
    }

    [Test]
    public void Typed_characters_are_the_line_at_Enter()
    {
        var editor = Editor([.. Type("node info"), Key(ConsoleKey.Enter)]);
        Assert.That(editor.ReadLine("> "), Is.EqualTo("node info"));
    }

    [Test]
    public void Up_recalls_earlier_lines_newest_first_and_Down_comes_back_to_an_empty_line()
    {
        var editor = Editor([Key(ConsoleKey.UpArrow), Key(ConsoleKey.UpArrow), Key(ConsoleKey.Enter), Key(ConsoleKey.UpArrow), Key(ConsoleKey.DownArrow), Key(ConsoleKey.Enter)],
            "cluster members", "node info");
        Assert.That(editor.ReadLine("> "), Is.EqualTo("cluster members"));
        Assert.That(editor.ReadLine("> "), Is.EqualTo(""));
    }

    [Test]
    public void Remembered_lines_join_the_history()
    {
        var editor = Editor([Key(ConsoleKey.UpArrow), Key(ConsoleKey.Enter)], "old");
        editor.Remember("node metrics");
        Assert.That(editor.ReadLine("> "), Is.EqualTo("node metrics"));
    }

    [Test]
    public void Backspace_and_cursor_moves_edit_inside_the_line()
    {
        var editor = Editor([.. Type("nod info"), Key(ConsoleKey.Home), Key(ConsoleKey.RightArrow), Key(ConsoleKey.RightArrow), Key(ConsoleKey.RightArrow),
            .. Type("e"), Key(ConsoleKey.End), Key(ConsoleKey.Backspace), .. Type("o"), Key(ConsoleKey.Enter)]);
        Assert.That(editor.ReadLine("> "), Is.EqualTo("node info"));
    }

    [Test]
    public void Ctrl_D_on_an_empty_line_ends_input_but_not_inside_a_line()
    {
        var editor = Editor([.. Type("x"), Key(ConsoleKey.D, '\u0004', control: true), Key(ConsoleKey.Enter), Key(ConsoleKey.D, '\u0004', control: true)]);
        Assert.That(editor.ReadLine("> "), Is.EqualTo("x"));
        Assert.That(editor.ReadLine("> "), Is.Null);
    }
}
