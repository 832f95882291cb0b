using Totoro.Kernel.Hocon;
using static Totoro.Tests.Kernel.Hocon.HoconTestSupport;

namespace Totoro.Tests.Kernel.Hocon;

public sealed class HoconIncludeTests
{
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "totoro-hocon-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void Include_merges_in_place_so_later_fields_override_it_and_it_overrides_earlier_ones()
    {
        Write("common.conf", "a = from-include\nb = from-include\nobj { x = 1, y = 1 }");
        var main = Write("main.conf", "a = before\ninclude \"common.conf\"\nb = after\nobj { y = 2 }");

        var config = HoconConfig.ParseFile(main, Options());

        Assert.That(config.GetString("a"), Is.EqualTo("from-include"));
        Assert.That(config.GetString("b"), Is.EqualTo("after"));
        Assert.That(config.GetInt("obj.x"), Is.EqualTo(1));
        Assert.That(config.GetInt("obj.y"), Is.EqualTo(2));
    }

    [Test]
    public void Include_paths_are_relative_to_the_including_file()
    {
        Write("shared/base.conf", "level = base\ninclude \"deeper/leaf.conf\"");
        Write("shared/deeper/leaf.conf", "leaf = yes");
        var main = Write("envs/prod/node.conf", "include required(\"../../shared/base.conf\")");

        var config = HoconConfig.ParseFile(main, Options());

        Assert.That(config.GetString("level"), Is.EqualTo("base"));
        Assert.That(config.GetBoolean("leaf"), Is.True);
    }

    [Test]
    public void Include_inside_an_object_nests_the_file_and_its_substitutions_resolve_under_that_object_first()
    {
        Write("part.conf", "port = 1\naddress = \"h:\"${port}\ntop = ${root-value}");
        var main = Write("main.conf", "root-value = r\nremote { include \"part.conf\" }\nport = 9");

        var config = HoconConfig.ParseFile(main, Options());

        Assert.That(config.GetInt("remote.port"), Is.EqualTo(1));
        Assert.That(config.GetString("remote.address"), Is.EqualTo("h:1"));
        Assert.That(config.GetString("remote.top"), Is.EqualTo("r"));
    }

    [Test]
    public void File_and_required_file_forms_and_a_missing_extension_are_accepted()
    {
        Write("a.conf", "a = 1");
        Write("b.conf", "b = 2");
        Write("c.conf", "c = 3");
        var main = Write("main.conf", "include file(\"a.conf\")\ninclude required(file(\"b.conf\"))\ninclude \"c\"");

        var config = HoconConfig.ParseFile(main, Options());

        Assert.That(config.GetInt("a") + config.GetInt("b") + config.GetInt("c"), Is.EqualTo(6));
    }

    [Test]
    public void A_missing_optional_include_is_ignored()
    {
        var main = Write("main.conf", "include \"nowhere.conf\"\na = 1");

        var config = HoconConfig.ParseFile(main, Options());

        Assert.That(config.Root.Keys, Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public void A_missing_required_include_is_an_error_at_the_include()
    {
        var main = Write("main.conf", "a = 1\n  include required(\"nowhere.conf\")");

        var error = Assert.Throws<HoconException>(() => HoconConfig.ParseFile(main, Options()))!;

        Assert.That(error.Message, Does.StartWith($"{main}:2:3: required include \"nowhere.conf\" not found"));
    }

    [Test]
    public void An_include_cycle_is_detected_and_shows_the_chain()
    {
        Write("b.conf", "include \"a.conf\"");
        var main = Write("a.conf", "include \"b.conf\"");

        var error = Assert.Throws<HoconException>(() => HoconConfig.ParseFile(main, Options()))!;

        Assert.That(error.Message, Does.Contain("include cycle: "));
        Assert.That(error.Message, Does.EndWith(Path.Combine(_directory, "a.conf")));
    }

    [Test]
    public void Include_depth_is_limited_and_configurable()
    {
        for (var i = 0; i < 5; i++)
        {
            Write($"f{i}.conf", $"include \"f{i + 1}.conf\"\nlevel{i} = {i}");
        }

        Write("f5.conf", "deepest = yes");
        var main = Path.Combine(_directory, "f0.conf");

        var config = HoconConfig.ParseFile(main, Options());
        var error = Assert.Throws<HoconException>(() => HoconConfig.ParseFile(main, Options() with { MaxIncludeDepth = 3 }))!;

        Assert.That(config.GetBoolean("deepest"), Is.True);
        Assert.That(error.Message, Does.Contain("includes nested deeper than 3 levels (HoconReadOptions.MaxIncludeDepth)"));
    }

    [Test]
    public void Errors_inside_an_included_file_point_into_that_file()
    {
        Write("broken.conf", "ok = 1\nbad value");
        var main = Write("main.conf", "include \"broken.conf\"");

        var error = Assert.Throws<HoconException>(() => HoconConfig.ParseFile(main, Options()))!;

        Assert.That(error.Message, Does.Contain("broken.conf:2:1: expected '=' or ':' after key 'bad', found 'value'"));
    }

    [Test]
    public void A_string_document_includes_only_from_a_directory_it_was_given()
    {
        Write("x.conf", "x = 1");

        var refused = ParseError("include \"x.conf\"");
        var allowed = HoconConfig.Parse("include \"x.conf\"", "inline", Options() with { IncludeDirectory = _directory });

        Assert.That(refused.Message, Is.EqualTo("test.conf:1:1: include \"x.conf\": this document has no directory to include from"));
        Assert.That(allowed.GetInt("x"), Is.EqualTo(1));
    }

    [Test]
    public void Classpath_and_url_includes_are_rejected_with_an_explanation()
    {
        var error = ParseError("include url(\"http://x\")", Options() with { IncludeDirectory = _directory });

        Assert.That(error.Message, Does.Contain("classpath() and url() are not supported"));
    }

    private string Write(string relativePath, string text)
    {
        var path = Path.Combine(_directory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
