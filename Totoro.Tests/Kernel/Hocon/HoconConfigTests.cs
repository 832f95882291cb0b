using Totoro.Kernel.Hocon;
using static Totoro.Tests.Kernel.Hocon.HoconTestSupport;

namespace Totoro.Tests.Kernel.Hocon;

public sealed class HoconConfigTests
{
    [Test]
    public void Numeric_getters_convert_numbers_and_numeric_strings()
    {
        var config = Parse("i = 42\nq = \"17\"\nl = 9000000000\nd = 2.5\nn = -3");

        Assert.That(config.GetInt("i"), Is.EqualTo(42));
        Assert.That(config.GetInt("q"), Is.EqualTo(17));
        Assert.That(config.GetLong("l"), Is.EqualTo(9_000_000_000L));
        Assert.That(config.GetDouble("d"), Is.EqualTo(2.5));
        Assert.That(config.GetDouble("i"), Is.EqualTo(42.0));
        Assert.That(config.GetInt("n"), Is.EqualTo(-3));
        Assert.That(config.GetString("i"), Is.EqualTo("42"));
    }

    [Test]
    public void Type_mismatch_names_the_key_path_the_found_value_and_where_it_was_set()
    {
        var config = Parse("totoro {\n  remote {\n    port = abc\n    ratio = 1.5\n    big = 3000000000\n  }\n}");

        var notNumber = Assert.Throws<HoconException>(() => config.GetInt("totoro.remote.port"))!;
        var notWhole = Assert.Throws<HoconException>(() => config.GetInt("totoro.remote.ratio"))!;
        var tooBig = Assert.Throws<HoconException>(() => config.GetInt("totoro.remote.big"))!;
        var notList = Assert.Throws<HoconException>(() => config.GetList("totoro.remote"))!;

        Assert.That(notNumber.Message, Is.EqualTo("totoro.remote.port: expected an integer, found string \"abc\" (test.conf:3:12)"));
        Assert.That(notNumber.Path, Is.EqualTo("totoro.remote.port"));
        Assert.That(notWhole.Message, Is.EqualTo("totoro.remote.ratio: expected an integer, found number 1.5 (test.conf:4:13)"));
        Assert.That(tooBig.Message, Is.EqualTo("totoro.remote.big: 3000000000 is out of range for a 32-bit integer (test.conf:5:11)"));
        Assert.That(notList.Message, Is.EqualTo("totoro.remote: expected a list, found an object (test.conf:2:10)"));
    }

    [Test]
    public void Missing_and_null_values_are_errors_naming_the_path_and_HasPath_is_false_for_both()
    {
        var config = Parse("a { b = null }");

        var missing = Assert.Throws<HoconException>(() => config.GetString("a.c"))!;
        var isNull = Assert.Throws<HoconException>(() => config.GetString("a.b"))!;

        Assert.That(missing.Message, Is.EqualTo("a.c: no value at this path (and no default in a reference.conf)"));
        Assert.That(isNull.Message, Is.EqualTo("a.b: is null but a value is required (test.conf:1:9)"));
        Assert.That(config.HasPath("a.b"), Is.False);
        Assert.That(config.HasPath("a.c"), Is.False);
        Assert.That(config.HasPath("a"), Is.True);
    }

    [TestCase("true", true)]
    [TestCase("yes", true)]
    [TestCase("on", true)]
    [TestCase("\"true\"", true)]
    [TestCase("false", false)]
    [TestCase("no", false)]
    [TestCase("off", false)]
    public void Booleans_accept_true_false_yes_no_on_off(string text, bool expected)
    {
        Assert.That(Parse($"b = {text}").GetBoolean("b"), Is.EqualTo(expected));
    }

    [Test]
    public void A_non_boolean_is_rejected_with_the_accepted_forms_listed()
    {
        var error = Assert.Throws<HoconException>(() => Parse("b = maybe").GetBoolean("b"))!;

        Assert.That(error.Message, Is.EqualTo("b: expected a boolean (true/false, yes/no, on/off), found string \"maybe\" (test.conf:1:5)"));
    }

    [TestCase("500ms", 500.0)]
    [TestCase("500 ms", 500.0)]
    [TestCase("10s", 10_000.0)]
    [TestCase("10 seconds", 10_000.0)]
    [TestCase("2m", 120_000.0)]
    [TestCase("1h", 3_600_000.0)]
    [TestCase("1d", 86_400_000.0)]
    [TestCase("1.5s", 1_500.0)]
    [TestCase("250", 250.0)]
    [TestCase("2000us", 2.0)]
    [TestCase("3000000ns", 3.0)]
    [TestCase("\"7 minutes\"", 420_000.0)]
    public void Durations_parse_with_spec_units_and_bare_numbers_as_milliseconds(string text, double milliseconds)
    {
        Assert.That(Parse($"t = {text}").GetDuration("t"), Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Test]
    public void Off_and_infinite_are_infinite_only_where_the_caller_allows_it()
    {
        var config = Parse("a = off\nb = infinite\nc = 5s");

        var refused = Assert.Throws<HoconException>(() => config.GetDuration("a"))!;

        Assert.That(config.GetDurationOrInfinite("a"), Is.EqualTo(Timeout.InfiniteTimeSpan));
        Assert.That(config.GetDurationOrInfinite("b"), Is.EqualTo(Timeout.InfiniteTimeSpan));
        Assert.That(config.GetDurationOrInfinite("c"), Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(refused.Message, Is.EqualTo("a: 'off' is not allowed here; expected a finite duration (e.g. 500ms, 10s) (test.conf:1:5)"));
    }

    [TestCase("5 fortnights")]
    [TestCase("s")]
    [TestCase("[1]")]
    public void Bad_durations_are_rejected(string text)
    {
        var error = Assert.Throws<HoconException>(() => Parse($"t = {text}").GetDuration("t"))!;

        Assert.That(error.Message, Does.StartWith("t: expected a duration (e.g. 500ms, 10s, 2m, 1h), found "));
    }

    [Test]
    public void An_overflowing_duration_is_rejected()
    {
        var error = Assert.Throws<HoconException>(() => Parse("t = 1e300d").GetDuration("t"))!;

        Assert.That(error.Message, Does.StartWith("t: duration '1e300d' is out of range"));
    }

    [TestCase("512", 512L)]
    [TestCase("512B", 512L)]
    [TestCase("512k", 524_288L)]
    [TestCase("512K", 524_288L)]
    [TestCase("2KiB", 2_048L)]
    [TestCase("2kB", 2_000L)]
    [TestCase("2 kilobytes", 2_000L)]
    [TestCase("4MiB", 4_194_304L)]
    [TestCase("4M", 4_194_304L)]
    [TestCase("4MB", 4_000_000L)]
    [TestCase("1G", 1_073_741_824L)]
    [TestCase("1GB", 1_000_000_000L)]
    [TestCase("1.5k", 1_536L)]
    [TestCase("2 mebibytes", 2_097_152L)]
    [TestCase("1TiB", 1_099_511_627_776L)]
    public void Sizes_parse_si_and_binary_units(string text, long bytes)
    {
        Assert.That(Parse($"s = {text}").GetBytes("s"), Is.EqualTo(bytes));
    }

    [TestCase("3 apples", "s: expected a size in bytes (e.g. 512, 512k, 4MiB, 10MB, 1G), found string \"3 apples\" (test.conf:1:5)")]
    [TestCase("0.3B", "s: size '0.3B' is not a whole number of bytes (test.conf:1:5)")]
    [TestCase("9000000PB", "s: size '9000000PB' is out of range (test.conf:1:5)")]
    [TestCase("-1k", "s: size '-1k' is negative (test.conf:1:5)")]
    public void Bad_sizes_are_rejected(string text, string message)
    {
        var error = Assert.Throws<HoconException>(() => Parse($"s = {text}").GetBytes("s"))!;

        Assert.That(error.Message, Is.EqualTo(message));
    }

    [Test]
    public void List_getters_convert_each_element_and_name_the_bad_index()
    {
        var config = Parse("seeds = [\"a:1\", \"b:2\"]\nports = [1, 2, x]");

        var error = Assert.Throws<HoconException>(() => config.GetIntList("ports"))!;

        Assert.That(config.GetStringList("seeds"), Is.EqualTo(new[] { "a:1", "b:2" }));
        Assert.That(error.Message, Is.EqualTo("ports[2]: expected an integer, found string \"x\" (test.conf:2:16)"));
    }

    [Test]
    public void A_sub_config_reads_relative_paths_but_reports_full_ones()
    {
        var config = Parse("totoro.remote { port = x, host = h }");

        var remote = config.GetConfig("totoro.remote");
        var error = Assert.Throws<HoconException>(() => remote.GetInt("port"))!;

        Assert.That(remote.GetString("host"), Is.EqualTo("h"));
        Assert.That(error.Path, Is.EqualTo("totoro.remote.port"));
        Assert.That(remote.FullPath("port"), Is.EqualTo("totoro.remote.port"));
    }

    [Test]
    public void Getting_a_sub_config_of_a_scalar_is_an_error()
    {
        var error = Assert.Throws<HoconException>(() => Parse("a = 1").GetConfig("a"))!;

        Assert.That(error.Message, Is.EqualTo("a: expected an object, found number 1 (test.conf:1:5)"));
    }

    [Test]
    public void Keys_needing_quotes_are_quoted_in_error_paths()
    {
        var config = Parse("\"akka.tcp\" { \"my port\" = x }");

        var error = Assert.Throws<HoconException>(() => config.GetInt("\"akka.tcp\".\"my port\""))!;

        Assert.That(error.Path, Is.EqualTo("\"akka.tcp\".\"my port\""));
    }

    [Test]
    public void A_file_that_does_not_exist_is_a_HoconException_naming_it()
    {
        var error = Assert.Throws<HoconException>(() => HoconConfig.ParseFile("no/such/file.conf"))!;

        Assert.That(error.Message, Does.StartWith("no/such/file.conf: cannot read config file:"));
    }
}
