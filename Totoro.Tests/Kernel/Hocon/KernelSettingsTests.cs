using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using static Totoro.Tests.Kernel.Hocon.HoconTestSupport;

namespace Totoro.Tests.Kernel.Hocon;

public sealed class KernelSettingsTests
{
    private static HoconConfig Reference => ReferenceConfig.Load(typeof(KernelSettings).Assembly);

    [Test]
    public void The_embedded_reference_conf_yields_the_documented_defaults()
    {
        var settings = KernelSettings.FromReference();

        Assert.That(settings, Is.EqualTo(new KernelSettings(
            DispatcherThroughput: 30,
            DedicatedDispatcherThreads: 2,
            DefaultAskTimeout: TimeSpan.FromSeconds(5),
            SupervisionMinBackoff: TimeSpan.FromMilliseconds(200),
            SupervisionMaxBackoff: TimeSpan.FromSeconds(30),
            SupervisionRandomFactor: 0.2,
            LogDeadLetters: true,
            DeadLetterLogLimit: 10,
            SerializeLocalMessages: false,
            InMemoryQueueCapacity: 10_000,
            InMemoryMaxFrameSize: 4 * 1024 * 1024,
            InMemoryLatency: TimeSpan.Zero)));
    }

    [Test]
    public void A_user_overlay_overrides_single_keys_and_keeps_the_other_defaults()
    {
        var overlay = Parse("totoro.kernel { ask-timeout = 1m, serialize-local-messages = on, transport.in-memory.latency = 20ms }", fallback: Reference);

        var settings = KernelSettings.FromConfig(overlay);

        Assert.That(settings.DefaultAskTimeout, Is.EqualTo(TimeSpan.FromMinutes(1)));
        Assert.That(settings.SerializeLocalMessages, Is.True);
        Assert.That(settings.InMemoryLatency, Is.EqualTo(TimeSpan.FromMilliseconds(20)));
        Assert.That(settings.DispatcherThroughput, Is.EqualTo(30));
    }

    [Test]
    public void WithFallback_on_resolved_configs_gives_the_same_settings_as_a_read_time_fallback()
    {
        const string text = "totoro.kernel.dispatcher.throughput = 5";

        var readTime = KernelSettings.FromConfig(Parse(text, fallback: Reference));
        var afterwards = KernelSettings.FromConfig(Parse(text).WithFallback(Reference));

        Assert.That(afterwards, Is.EqualTo(readTime));
        Assert.That(afterwards.DispatcherThroughput, Is.EqualTo(5));
    }

    [Test]
    public void Invalid_kernel_settings_name_every_offending_key()
    {
        var overlay = Parse(
            "totoro.kernel {\n  dispatcher.throughput = 0\n  supervision { min-backoff = 10s, max-backoff = 1s, random-factor = 2 }\n  dead-letters.log = perhaps\n}",
            fallback: Reference);

        var error = Assert.Throws<SettingsException>(() => KernelSettings.FromConfig(overlay))!;

        Assert.That(error.Errors, Is.EqualTo(new[]
        {
            "totoro.kernel.dispatcher.throughput: must be between 1 and 2147483647, was 0 (test.conf:2:27)",
            "totoro.kernel.supervision.random-factor: must be between 0 and 1, was 2 (test.conf:3:70)",
            "totoro.kernel.dead-letters.log: expected a boolean (true/false, yes/no, on/off), found string \"perhaps\" (test.conf:4:22)",
            "totoro.kernel.supervision.max-backoff: must not be shorter than supervision.min-backoff (00:00:10)",
        }));
    }

    [Test]
    public void Loading_reference_conf_from_an_assembly_without_one_explains_the_fix()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ReferenceConfig.Load(typeof(KernelSettingsTests).Assembly))!;

        Assert.That(error.Message, Does.Contain("embeds no reference.conf"));
    }
}
