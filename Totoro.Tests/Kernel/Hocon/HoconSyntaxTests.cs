using Totoro.Kernel.Hocon;
using static Totoro.Tests.Kernel.Hocon.HoconTestSupport;

namespace Totoro.Tests.Kernel.Hocon;

public sealed class HoconSyntaxTests
{
    [Test]
    public void Root_braces_are_optional_and_give_the_same_tree()
    {
        var braced = Parse("{ a = 1, b { c = x } }");
        var bare = Parse("a = 1\nb { c = x }");

        Assert.That(braced.GetInt("a"), Is.EqualTo(1));
        Assert.That(bare.GetInt("a"), Is.EqualTo(1));
        Assert.That(braced.GetString("b.c"), Is.EqualTo("x"));
        Assert.That(bare.GetString("b.c"), Is.EqualTo("x"));
    }

    [Test]
    public void Equals_colon_and_an_opening_brace_all_separate_key_from_value()
    {
        var config = Parse("a = 1\nb : 2\nc { d = 3 }\ne: {f: 4}");

        Assert.That(config.GetInt("a"), Is.EqualTo(1));
        Assert.That(config.GetInt("b"), Is.EqualTo(2));
        Assert.That(config.GetInt("c.d"), Is.EqualTo(3));
        Assert.That(config.GetInt("e.f"), Is.EqualTo(4));
    }

    [Test]
    public void Dotted_keys_build_nested_objects_but_quoted_dots_stay_in_one_key()
    {
        var config = Parse("a.b.c = 1\n\"x.y\" = 2\nm.\"n.o\".p = 3");

        Assert.That(config.GetInt("a.b.c"), Is.EqualTo(1));
        Assert.That(config.Root.Fields["a"], Is.InstanceOf<HoconObject>());
        Assert.That(config.Root.Keys, Does.Contain("x.y"));
        Assert.That(config.GetInt("\"x.y\""), Is.EqualTo(2));
        Assert.That(config.HasPath("x.y"), Is.False);
        Assert.That(config.GetInt("m.\"n.o\".p"), Is.EqualTo(3));
    }

    [Test]
    public void Dotted_key_and_nested_object_merge_into_one_object()
    {
        var config = Parse("a.b.c = 1\na { b { d = 2 } }\na.e = 3");

        var a = config.GetConfig("a");
        Assert.That(a.GetInt("b.c"), Is.EqualTo(1));
        Assert.That(a.GetInt("b.d"), Is.EqualTo(2));
        Assert.That(a.GetInt("e"), Is.EqualTo(3));
    }

    [Test]
    public void Comments_with_hash_and_double_slash_run_to_the_end_of_the_line()
    {
        var config = Parse("# heading\na = 1 # trailing\n// another\nb = two // trailing\nc = \"#not a comment\"");

        Assert.That(config.GetInt("a"), Is.EqualTo(1));
        Assert.That(config.GetString("b"), Is.EqualTo("two"));
        Assert.That(config.GetString("c"), Is.EqualTo("#not a comment"));
        Assert.That(config.Root.Keys, Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void Arrays_accept_commas_newlines_and_a_trailing_comma()
    {
        var config = Parse("a = [1, 2, 3,]\nb = [\n  x\n  y\n]\nc = []\nd = [[1], {k = v}]");

        Assert.That(config.GetIntList("a"), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(config.GetStringList("b"), Is.EqualTo(new[] { "x", "y" }));
        Assert.That(config.GetList("c"), Is.Empty);
        Assert.That(config.GetList("d")[0], Is.InstanceOf<HoconArray>());
        Assert.That(((HoconObject)config.GetList("d")[1]).Fields["k"].ToString(), Is.EqualTo("v"));
    }

    [Test]
    public void Quoted_strings_decode_json_escapes()
    {
        var config = Parse("a = \"tab\\there \\\"q\\\" \\u00e9 \\\\ \\/\"");

        Assert.That(config.GetString("a"), Is.EqualTo("tab\there \"q\" é \\ /"));
    }

    [Test]
    public void Triple_quoted_strings_are_raw_and_may_span_lines()
    {
        var config = Parse("a = \"\"\"line one\n  \"quoted\" \\n raw\"\"\"\nb = \"\"\"ends with quote\"\"\"\"");

        Assert.That(config.GetString("a"), Is.EqualTo("line one\n  \"quoted\" \\n raw"));
        Assert.That(config.GetString("b"), Is.EqualTo("ends with quote\""));
    }

    [Test]
    public void Unquoted_scalars_get_their_json_types()
    {
        var config = Parse("i = 42\nf = -1.5e3\nt = true\nn = null\ns = hello\nv = 1.2.3");

        Assert.That(((HoconScalar)config.GetValue("i")).Kind, Is.EqualTo(HoconScalarKind.Number));
        Assert.That(config.GetDouble("f"), Is.EqualTo(-1500.0));
        Assert.That(((HoconScalar)config.GetValue("t")).Kind, Is.EqualTo(HoconScalarKind.Boolean));
        Assert.That(config.HasPath("n"), Is.False);
        Assert.That(config.Root.Keys, Does.Contain("n"));
        Assert.That(((HoconScalar)config.GetValue("s")).Kind, Is.EqualTo(HoconScalarKind.String));
        Assert.That(((HoconScalar)config.GetValue("v")).Kind, Is.EqualTo(HoconScalarKind.String));
    }

    [Test]
    public void String_concatenation_keeps_the_whitespace_between_values_but_not_around_them()
    {
        var config = Parse("a =   foo   bar  baz   \nb = \"x\"y  \"z\"\nc = 1 2\nd = foo\"\"bar");

        Assert.That(config.GetString("a"), Is.EqualTo("foo   bar  baz"));
        Assert.That(config.GetString("b"), Is.EqualTo("xy  z"));
        Assert.That(config.GetString("c"), Is.EqualTo("1 2"));
        Assert.That(((HoconScalar)config.GetValue("c")).Kind, Is.EqualTo(HoconScalarKind.String));
        Assert.That(config.GetString("d"), Is.EqualTo("foobar"));
    }

    [Test]
    public void Whitespace_inside_a_key_is_part_of_the_key()
    {
        var config = Parse("foo bar = 1\n\"a\" b.c = 2");

        Assert.That(config.Root.Keys, Does.Contain("foo bar"));
        Assert.That(config.GetInt("\"a b\".c"), Is.EqualTo(2));
    }

    [Test]
    public void Array_concatenation_joins_lists_and_object_concatenation_merges_objects()
    {
        var config = Parse("a = [1, 2] [3]\nb = { x = 1, y = 1 } { y = 2, z = 2 }");

        Assert.That(config.GetIntList("a"), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(config.GetInt("b.x"), Is.EqualTo(1));
        Assert.That(config.GetInt("b.y"), Is.EqualTo(2));
        Assert.That(config.GetInt("b.z"), Is.EqualTo(2));
    }

    [Test]
    public void Concatenating_a_list_with_a_string_is_an_error_naming_the_key()
    {
        var error = ParseError("a = [1] foo");

        Assert.That(error.Message, Is.EqualTo("test.conf:1:5: cannot concatenate list and string in the value of 'a'"));
    }

    [Test]
    public void Duplicate_keys_merge_objects_and_the_later_non_object_wins()
    {
        var config = Parse("a { x = 1, y = 1 }\na { y = 2 }\nb = 1\nb = 2\nc { x = 1 }\nc = 5\nd = 5\nd { x = 1 }");

        Assert.That(config.GetInt("a.x"), Is.EqualTo(1));
        Assert.That(config.GetInt("a.y"), Is.EqualTo(2));
        Assert.That(config.GetInt("b"), Is.EqualTo(2));
        Assert.That(config.GetInt("c"), Is.EqualTo(5));
        Assert.That(config.GetInt("d.x"), Is.EqualTo(1));
        Assert.That(config.GetConfig("d").Root.Keys, Is.EqualTo(new[] { "x" }));
    }

    [Test]
    public void An_object_after_a_non_object_replaces_it_and_forgets_older_objects()
    {
        var config = Parse("a { x = 1 }\na = 5\na { y = 2 }");

        Assert.That(config.GetConfig("a").Root.Keys, Is.EqualTo(new[] { "y" }));
    }

    [TestCase("a 1", "test.conf:1:1: expected '=' or ':' after key 'a', found '1'")]
    [TestCase("a.b\n", "test.conf:1:1: expected '=' or ':' after key 'a.b', found end of line")]
    [TestCase("totoro {\n  remote {\n    port 2552\n  }\n}", "test.conf:3:5: expected '=' or ':' after key 'totoro.remote.port', found '2552'")]
    [TestCase("a = ", "test.conf:1:5: expected a value after '=' for key 'a', found end of input")]
    [TestCase("a = 1 = 2", "test.conf:1:7: expected ',' or a new line after the value of 'a', found '='")]
    [TestCase("a { b = 1", "test.conf:1:10: unexpected end of input; expected '}'")]
    [TestCase("a = [1, 2", "test.conf:1:10: expected ',' or ']' in the list at test.conf:1:5, found end of input")]
    [TestCase("a = [1, :]", "test.conf:1:9: expected a list element or ']' in the list at test.conf:1:5, found ':'")]
    [TestCase("a = \"open\nb = 1", "test.conf:1:5: unterminated quoted string (a quoted string cannot span lines; use \"\"\"...\"\"\")")]
    [TestCase("a = \"\\q\"", "test.conf:1:7: invalid escape sequence '\\q'")]
    [TestCase("a = ${b", "test.conf:1:5: unterminated substitution; expected '}'")]
    [TestCase("a..b = 1", "test.conf:1:1: a key path has an empty segment (write \"\" for an empty key)")]
    [TestCase("a = b ^ c", "test.conf:1:7: unexpected character '^' (quote the value if the character is meant literally)")]
    [TestCase("[1, 2]", "test.conf:1:1: the root of a document must be an object, not a list")]
    [TestCase("{ a = 1 } b = 2", "test.conf:1:11: unexpected 'b' after the closing '}' of the root object")]
    [TestCase("a = 1,, b = 2", "test.conf:1:7: expected a key, found ','")]
    [TestCase("a = \"\"\"never closed", "test.conf:1:5: unterminated triple-quoted string")]
    public void Syntax_errors_carry_file_line_and_column(string text, string message)
    {
        var error = ParseError(text);

        Assert.That(error.Message, Is.EqualTo(message));
    }

    [Test]
    public void Nesting_beyond_the_limit_fails_with_a_clear_error_instead_of_overflowing_the_stack()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        var error = ParseError("a = " + deep);
        var dotted = ParseError(string.Join('.', Enumerable.Repeat("k", 70)) + " = 1");
        var braces = ParseError(string.Concat(Enumerable.Repeat("a {", 70)) + new string('}', 70));

        Assert.That(error.Message, Does.Contain("nesting deeper than 64 levels (HoconReadOptions.MaxNestingDepth)"));
        Assert.That(dotted.Message, Does.Contain("nesting deeper than 64 levels"));
        Assert.That(braces.Message, Does.Contain("nesting deeper than 64 levels"));
    }

    [Test]
    public void Documents_at_the_nesting_limit_still_resolve()
    {
        var lists = "a = " + new string('[', 63) + "1" + new string(']', 63);
        var objects = string.Join('.', Enumerable.Repeat("k", 63)) + " = [1]";

        Assert.That(Parse(lists).GetList("a"), Has.Count.EqualTo(1));
        Assert.That(Parse(objects).GetIntList(string.Join('.', Enumerable.Repeat("k", 63))), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void The_nesting_limit_is_configurable()
    {
        var options = Options() with { MaxNestingDepth = 3 };

        Assert.That(HoconConfig.Parse("a.b.c = 1", "t", options).GetInt("a.b.c"), Is.EqualTo(1));
        Assert.That(ParseError("a.b.c.d = 1", options).Message, Does.Contain("nesting deeper than 3 levels"));
    }
}
