using Totoro.Kernel.Hocon;
using static Totoro.Tests.Kernel.Hocon.HoconTestSupport;

namespace Totoro.Tests.Kernel.Hocon;

public sealed class HoconSubstitutionTests
{
    [Test]
    public void Substitution_copies_a_value_defined_earlier_or_later()
    {
        var config = Parse("a = 1\nb = ${a}\nc = ${d.e}\nd.e = later");

        Assert.That(config.GetInt("b"), Is.EqualTo(1));
        Assert.That(((HoconScalar)config.GetValue("b")).Kind, Is.EqualTo(HoconScalarKind.Number));
        Assert.That(config.GetString("c"), Is.EqualTo("later"));
    }

    [Test]
    public void Substitution_sees_the_final_value_of_a_key_overridden_after_it()
    {
        var config = Parse("a = 1\nb = ${a}\na = 2");

        Assert.That(config.GetInt("b"), Is.EqualTo(2));
    }

    [Test]
    public void Substitution_of_an_object_copies_the_whole_subtree()
    {
        var config = Parse("base { x = 1, y = 2 }\ncopy = ${base}\nextended = ${base} { y = 3, z = 4 }");

        Assert.That(config.GetInt("copy.y"), Is.EqualTo(2));
        Assert.That(config.GetInt("extended.x"), Is.EqualTo(1));
        Assert.That(config.GetInt("extended.y"), Is.EqualTo(3));
        Assert.That(config.GetInt("extended.z"), Is.EqualTo(4));
    }

    [Test]
    public void Substitutions_concatenate_with_strings_and_inside_arrays()
    {
        var config = Parse("host = \"10.0.0.1\"\nport = 4053\naddress = ${host}\":\"${port}\nlist = [${host}, ${port}, x]\nmore = ${list} [y]");

        Assert.That(config.GetString("address"), Is.EqualTo("10.0.0.1:4053"));
        Assert.That(config.GetStringList("list"), Is.EqualTo(new[] { "10.0.0.1", "4053", "x" }));
        Assert.That(config.GetStringList("more"), Is.EqualTo(new[] { "10.0.0.1", "4053", "x", "y" }));
    }

    [Test]
    public void Quoted_segments_in_a_substitution_are_not_split_on_dots()
    {
        var config = Parse("\"a.b\" = flat\na.b = nested\nx = ${\"a.b\"}\ny = ${a.b}");

        Assert.That(config.GetString("x"), Is.EqualTo("flat"));
        Assert.That(config.GetString("y"), Is.EqualTo("nested"));
    }

    [Test]
    public void Undefined_required_substitution_is_an_error_naming_it_and_the_key()
    {
        var error = ParseError("a {\n  b = ${missing.key}\n}");

        Assert.That(error.Message, Does.StartWith("test.conf:2:7: undefined substitution ${missing.key} in the value of 'a.b'"));
    }

    [Test]
    public void Optional_substitution_that_is_undefined_leaves_the_key_unset_or_keeps_the_earlier_value()
    {
        var config = Parse("a = ${?nope}\nb = 42\nb = ${?nope}\nc = [1, ${?nope}, 2]\nd = x${?nope}y");

        Assert.That(config.HasPath("a"), Is.False);
        Assert.That(config.GetInt("b"), Is.EqualTo(42));
        Assert.That(config.GetIntList("c"), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(config.GetString("d"), Is.EqualTo("xy"));
    }

    [Test]
    public void Substitutions_missing_from_the_document_fall_back_to_environment_variables()
    {
        var environment = new Dictionary<string, string> { ["TOTORO_SECRET"] = "s3cret", ["HOME"] = "/home/t" };

        var config = Parse("secret = ${?TOTORO_SECRET}\npath = ${HOME}\"/data\"\nHOME2 = ${?HOME}", environment);

        Assert.That(config.GetString("secret"), Is.EqualTo("s3cret"));
        Assert.That(config.GetString("path"), Is.EqualTo("/home/t/data"));
        Assert.That(config.GetString("HOME2"), Is.EqualTo("/home/t"));
    }

    [Test]
    public void A_value_in_the_document_wins_over_an_environment_variable_of_the_same_name()
    {
        var config = Parse("HOME = doc\nx = ${HOME}", new Dictionary<string, string> { ["HOME"] = "env" });

        Assert.That(config.GetString("x"), Is.EqualTo("doc"));
    }

    [Test]
    public void Self_reference_extends_the_previous_value()
    {
        var config = Parse("path = \"/bin\"\npath = ${path}\":/usr/bin\"\nlist = [1]\nlist = ${list} [2]\nlist = ${list} [3]");

        Assert.That(config.GetString("path"), Is.EqualTo("/bin:/usr/bin"));
        Assert.That(config.GetIntList("list"), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void Self_reference_to_an_object_merges_with_the_previous_object()
    {
        var config = Parse("a { x = 1 }\na = ${a} { y = 2 }\nb.c = 1\nb.c = ${b.c}0");

        Assert.That(config.GetInt("a.x"), Is.EqualTo(1));
        Assert.That(config.GetInt("a.y"), Is.EqualTo(2));
        Assert.That(config.GetInt("b.c"), Is.EqualTo(10));
    }

    [Test]
    public void Self_reference_under_a_later_object_merge_sees_the_definition_before_it()
    {
        // The spec's own example: the middle definition refers to the first, the last merges over the middle.
        var config = Parse("foo : { a : { c : 1 } }\nfoo : ${foo.a}\nfoo : { a : 2 }");

        Assert.That(config.GetConfig("foo").Root.Keys, Is.EquivalentTo(new[] { "a", "c" }));
        Assert.That(config.GetInt("foo.a"), Is.EqualTo(2));
        Assert.That(config.GetInt("foo.c"), Is.EqualTo(1));
    }

    [Test]
    public void A_substitution_inside_an_object_sees_that_object_s_final_fields()
    {
        var config = Parse("bar : { foo : 42, baz : ${bar.foo} }\nbar : { foo : 43 }");

        Assert.That(config.GetInt("bar.baz"), Is.EqualTo(43));
    }

    [Test]
    public void Optional_self_reference_without_a_previous_value_is_undefined()
    {
        var config = Parse("a = ${?a} [1]");

        Assert.That(config.GetIntList("a"), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void Plus_equals_appends_to_an_existing_list_or_starts_a_new_one()
    {
        var config = Parse("a = [1]\na += 2\na += 3\nb += x\nc { d += 1 }\nc.d += 2");

        Assert.That(config.GetIntList("a"), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(config.GetStringList("b"), Is.EqualTo(new[] { "x" }));
        Assert.That(config.GetIntList("c.d"), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void Plus_equals_on_a_non_list_is_an_error()
    {
        var error = ParseError("a = 1\na += 2");

        Assert.That(error.Message, Is.EqualTo("test.conf:2:1: cannot concatenate list and number in the value of 'a'"));
    }

    [Test]
    public void Substitution_cycles_are_reported_not_followed_forever()
    {
        var error = ParseError("a = ${b}\nb = ${c}\nc = ${a}");
        var selfObject = ParseError("a { b = ${a} }");

        Assert.That(error.Message, Does.Contain("substitution cycle: the value of 'a' depends on itself"));
        Assert.That(selfObject.Message, Does.Contain("substitution cycle: the value of 'a' depends on itself"));
    }

    [Test]
    public void Required_self_reference_without_a_previous_value_is_undefined()
    {
        var error = ParseError("a = ${a} [1]");

        Assert.That(error.Message, Does.StartWith("test.conf:1:5: undefined substitution ${a} in the value of 'a'"));
    }

    [Test]
    public void A_long_chain_of_substitutions_fails_cleanly_at_the_resolve_depth_limit()
    {
        var text = string.Join('\n', Enumerable.Range(0, 5000).Select(i => $"k{i} = ${{k{i + 1}}}")) + "\nk5000 = end";

        var error = ParseError(text);
        var shortChain = Parse(string.Join('\n', Enumerable.Range(0, 50).Select(i => $"k{i} = ${{k{i + 1}}}")) + "\nk50 = end");

        Assert.That(error.Message, Does.Contain("nested deeper than 256 levels (HoconReadOptions.MaxResolveDepth)"));
        Assert.That(shortChain.GetString("k0"), Is.EqualTo("end"));
    }

    [Test]
    public void Doubling_concatenations_stop_at_the_size_limit()
    {
        var text = "a0 = xxxxxxxx\n" + string.Join('\n', Enumerable.Range(0, 40).Select(i => $"a{i + 1} = ${{a{i}}}${{a{i}}}"));
        var lists = "l0 = [1, 2, 3, 4]\n" + string.Join('\n', Enumerable.Range(0, 40).Select(i => $"l{i + 1} = ${{l{i}}} ${{l{i}}}"));

        var nested = "l0 = [1, 2]\n" + string.Join('\n', Enumerable.Range(0, 40).Select(i => $"l{i + 1} = [${{l{i}}}, ${{l{i}}}]"));

        Assert.That(ParseError(text).Message, Does.Contain("string concatenation for 'a").And.Contain("(HoconReadOptions.MaxValueSize)"));
        Assert.That(ParseError(lists).Message, Does.Contain("substitutions expand the value of 'l").And.Contain("to more than 1048576 values"));
        Assert.That(ParseError(nested).Message, Does.Contain("substitutions expand the value of 'l"));
    }

    [Test]
    public void Substitutions_cannot_stack_subtrees_deeper_than_the_nesting_limit()
    {
        var deep = string.Concat(Enumerable.Repeat("k.", 50));
        var text = $"a0.{deep}v = 1\n" + string.Join('\n', Enumerable.Range(0, 5).Select(i => $"a{i + 1}.{deep}v = ${{a{i}}}"));

        var error = ParseError(text);

        Assert.That(error.Message, Does.Contain("substitutions nest the value of 'a1.k.k.k").And.Contain("deeper than 64 levels (HoconReadOptions.MaxNestingDepth)"));
    }

    [Test]
    public void Fallback_given_at_read_time_is_visible_to_substitutions_and_self_references()
    {
        var reference = Parse("totoro { remote.port = 4053, roles = [worker] }");

        var config = Parse("totoro { seed = \"host:\"${totoro.remote.port}, roles = ${totoro.roles} [aggregator] }", fallback: reference);

        Assert.That(config.GetString("totoro.seed"), Is.EqualTo("host:4053"));
        Assert.That(config.GetStringList("totoro.roles"), Is.EqualTo(new[] { "worker", "aggregator" }));
        Assert.That(config.GetInt("totoro.remote.port"), Is.EqualTo(4053));
    }

    [Test]
    public void WithFallback_merges_objects_deeply_and_the_overlay_wins_for_other_values()
    {
        var reference = Parse("a { x = 1, y = 1, list = [1, 2] }\nb = 1\nonly-in-reference = r");
        var overlay = Parse("a { y = 2, list = [3] }\nb { c = 1 }");

        var merged = overlay.WithFallback(reference);

        Assert.That(merged.GetInt("a.x"), Is.EqualTo(1));
        Assert.That(merged.GetInt("a.y"), Is.EqualTo(2));
        Assert.That(merged.GetIntList("a.list"), Is.EqualTo(new[] { 3 }));
        Assert.That(merged.GetInt("b.c"), Is.EqualTo(1));
        Assert.That(merged.GetString("only-in-reference"), Is.EqualTo("r"));
        Assert.That(reference.GetInt("a.y"), Is.EqualTo(1), "the fallback itself is unchanged");
    }
}
