using Totoro.Kernel.Settings;
using static Totoro.Tests.Kernel.Hocon.HoconTestSupport;

namespace Totoro.Tests.Kernel.Hocon;

public sealed class SettingsReaderTests
{
    private sealed record SampleSettings(int Port, TimeSpan Timeout, long Buffer, IReadOnlyList<string> Seeds);

    [Test]
    public void Valid_section_builds_the_record()
    {
        var config = Parse("svc { port = 80, timeout = 2s, buffer = 1k, seeds = [a, b] }");

        var reader = new SettingsReader(config, "svc");
        var settings = reader.Validated(new SampleSettings(reader.Int("port", min: 1), reader.Duration("timeout"), reader.Bytes("buffer"), reader.StringList("seeds")));

        Assert.That(settings.Port, Is.EqualTo(80));
        Assert.That(settings.Timeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(settings.Buffer, Is.EqualTo(1024));
        Assert.That(settings.Seeds, Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void Every_bad_key_is_reported_at_once_with_its_full_path()
    {
        var config = Parse("svc {\n  port = 0\n  timeout = soon\n  buffer = -5\n}");

        var reader = new SettingsReader(config, "svc");
        var candidate = new SampleSettings(reader.Int("port", min: 1, max: 65535), reader.Duration("timeout"), reader.Bytes("buffer"), reader.StringList("seeds"));
        var error = Assert.Throws<SettingsException>(() => reader.Validated(candidate))!;

        Assert.That(error.Errors, Is.EqualTo(new[]
        {
            "svc.port: must be between 1 and 65535, was 0 (test.conf:2:10)",
            "svc.timeout: expected a duration (e.g. 500ms, 10s, 2m, 1h), found string \"soon\" (test.conf:3:13)",
            "svc.buffer: size '-5' is negative (test.conf:4:12)",
            "svc.seeds: no value at this path (and no default in a reference.conf)",
        }));
        Assert.That(error.Message, Does.StartWith("4 invalid settings:"));
    }

    [Test]
    public void A_missing_section_is_one_error_naming_it()
    {
        var reader = new SettingsReader(Parse("other = 1"), "svc.inner");

        Assert.That(reader.Errors, Is.EqualTo(new[] { "svc.inner: no value at this path (and no default in a reference.conf)" }));
    }

    [Test]
    public void Cross_field_rules_are_collected_with_the_other_errors()
    {
        var reader = new SettingsReader(Parse("svc { low = 5, high = 1 }"), "svc");

        var low = reader.Int("low");
        var high = reader.Int("high");
        reader.Require(high >= low, "high", "must not be below low");

        Assert.That(reader.Errors, Is.EqualTo(new[] { "svc.high: must not be below low" }));
    }

    [Test]
    public void Durations_below_the_minimum_and_infinite_where_allowed()
    {
        var reader = new SettingsReader(Parse("svc { a = 0s, b = off, c = 1ms }"), "svc");

        reader.Duration("a", min: TimeSpan.FromMilliseconds(1));
        var b = reader.DurationOrInfinite("b", min: TimeSpan.FromSeconds(1));
        reader.DurationOrInfinite("c", min: TimeSpan.FromSeconds(1));

        Assert.That(b, Is.EqualTo(Timeout.InfiniteTimeSpan));
        Assert.That(reader.Errors, Is.EqualTo(new[]
        {
            "svc.a: must be at least 00:00:00.0010000, was 00:00:00 (test.conf:1:11)",
            "svc.c: must be at least 00:00:01 or off, was 00:00:00.0010000 (test.conf:1:28)",
        }));
    }

    [Test]
    public void A_list_of_objects_is_read_item_by_item_and_a_bad_item_is_named_by_its_index()
    {
        var config = Parse("svc {\n  links = [\n    { name = a, speed = 5 }\n    { name = b, speed = -1 }\n    7\n  ]\n  ok = [{ name = c, speed = 1 }]\n}");

        var reader = new SettingsReader(config, "svc");
        var good = reader.ObjectList("ok").Select(item => (item.String("name"), item.Int("speed", min: 0))).ToList();
        var bad = new SettingsReader(config, "svc");
        _ = bad.ObjectList("links").Select(item => (item.String("name"), item.Int("speed", min: 0))).ToList();
        var error = Assert.Throws<SettingsException>(() => bad.Validated(0))!;

        Assert.That(reader.Validated(good), Is.EqualTo(new[] { ("c", 1) }));
        Assert.That(error.Errors, Has.Count.EqualTo(1));
        Assert.That(error.Errors[0], Does.StartWith("svc.links.2: expected an object"));
    }

    [Test]
    public void A_bad_key_inside_a_list_item_names_the_item()
    {
        var config = Parse("svc {\n  links = [\n    { name = a, speed = 5 }\n    { name = b, speed = -1 }\n  ]\n}");

        var reader = new SettingsReader(config, "svc");
        _ = reader.ObjectList("links").Select(item => (item.String("name"), item.Int("speed", min: 0))).ToList();
        var error = Assert.Throws<SettingsException>(() => reader.Validated(0))!;

        Assert.That(error.Errors, Is.EqualTo(new[] { "svc.links.1.speed: must be between 0 and 2147483647, was -1 (test.conf:4:25)" }));
    }
}
