using Totoro.Kernel.Hocon;

namespace Totoro.Kernel.Settings;

/// <summary>The actor kernel's settings, read once from <c>totoro.kernel</c> (defaults in the kernel's reference.conf).</summary>
/// <param name="DispatcherThroughput">Messages an actor processes before yielding its thread.</param>
/// <param name="DedicatedDispatcherThreads">Threads of the dispatcher for CPU-heavy work.</param>
/// <param name="DefaultAskTimeout">Ask timeout when the caller gives none.</param>
/// <param name="SupervisionMinBackoff">First restart delay.</param>
/// <param name="SupervisionMaxBackoff">Cap of the doubling restart delay.</param>
/// <param name="SupervisionRandomFactor">Jitter added to restart delays, 0 to 1.</param>
/// <param name="LogDeadLetters">Whether undeliverable messages are logged.</param>
/// <param name="DeadLetterLogLimit">Dead letters logged before going quiet; 0 is unlimited.</param>
/// <param name="SerializeLocalMessages">Whether local messages also pass through the serializer registry.</param>
/// <param name="InMemoryQueueCapacity">Frames queued per node pair on the in-memory transport.</param>
/// <param name="InMemoryMaxFrameSize">Largest in-memory frame in bytes.</param>
/// <param name="InMemoryLatency">Delay added to every in-memory frame.</param>
public sealed record KernelSettings(
    int DispatcherThroughput,
    int DedicatedDispatcherThreads,
    TimeSpan DefaultAskTimeout,
    TimeSpan SupervisionMinBackoff,
    TimeSpan SupervisionMaxBackoff,
    double SupervisionRandomFactor,
    bool LogDeadLetters,
    int DeadLetterLogLimit,
    bool SerializeLocalMessages,
    int InMemoryQueueCapacity,
    long InMemoryMaxFrameSize,
    TimeSpan InMemoryLatency)
{
    public const string SectionPath = "totoro.kernel";

    /// <summary>The defaults from the embedded reference.conf alone.</summary>
    public static KernelSettings FromReference() => FromConfig(ReferenceConfig.Load(typeof(KernelSettings).Assembly));

    /// <summary>Reads and validates <c>totoro.kernel</c>; throws <see cref="SettingsException"/> listing every bad key.</summary>
    public static KernelSettings FromConfig(HoconConfig config)
    {
        var reader = new SettingsReader(config, SectionPath);
        var settings = new KernelSettings(
            DispatcherThroughput: reader.Int("dispatcher.throughput", min: 1),
            DedicatedDispatcherThreads: reader.Int("dispatcher.dedicated-threads", min: 1, max: 1024),
            DefaultAskTimeout: reader.Duration("ask-timeout", min: TimeSpan.FromTicks(1)),
            SupervisionMinBackoff: reader.Duration("supervision.min-backoff", min: TimeSpan.FromTicks(1)),
            SupervisionMaxBackoff: reader.Duration("supervision.max-backoff", min: TimeSpan.FromTicks(1)),
            SupervisionRandomFactor: reader.Double("supervision.random-factor", min: 0, max: 1),
            LogDeadLetters: reader.Boolean("dead-letters.log"),
            DeadLetterLogLimit: reader.Int("dead-letters.log-limit", min: 0),
            SerializeLocalMessages: reader.Boolean("serialize-local-messages"),
            InMemoryQueueCapacity: reader.Int("transport.in-memory.queue-capacity", min: 1),
            InMemoryMaxFrameSize: reader.Bytes("transport.in-memory.max-frame-size", min: 1, max: int.MaxValue),
            InMemoryLatency: reader.Duration("transport.in-memory.latency"));
        reader.Require(
            settings.SupervisionMaxBackoff >= settings.SupervisionMinBackoff,
            "supervision.max-backoff",
            $"must not be shorter than supervision.min-backoff ({settings.SupervisionMinBackoff})");
        return reader.Validated(settings);
    }
}
