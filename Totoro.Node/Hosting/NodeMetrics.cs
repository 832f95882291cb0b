using System.Diagnostics.Metrics;
using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using Totoro.Kernel;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Hosting;

/// <summary>One reading of an instrument; <see cref="Tags"/> renders its tags as <c>k=v,…</c>.</summary>
public sealed record MetricReading(string Instrument, string Unit, string Tags, double Value);

/// <summary>
/// Kernel-level instruments of one node on the <c>Totoro.Node</c> meter (dead letters, live actors), and snapshots
/// of every Totoro meter of this node through a <see cref="MeterListener"/> for <c>node metrics</c>.
/// </summary>
internal sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "Totoro.Node";
    public const string NodeTag = "totoro.node";

    private readonly Meter meter;
    private readonly string node;
    private long deadLetters;

    public NodeMetrics(ActorSystem system, string node)
    {
        this.node = node;
        meter = new Meter(MeterName, null, [new(NodeTag, node)]);
        meter.CreateObservableCounter("totoro.node.dead-letters", () => Volatile.Read(ref deadLetters), "{message}");
        meter.CreateObservableGauge("totoro.node.actors", () => system.UserActorPaths().Count, "{actor}");
        system.EventStream.Subscribe<DeadLetter>(system.ActorOf(Props.Create(() => new DeadLetterCounter(this)), "dead-letter-counter"));
    }

    public IReadOnlyList<MetricReading> Collect()
    {
        var readings = new List<MetricReading>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, self) =>
            {
                if (instrument.Meter.Name.StartsWith("Totoro.", StringComparison.Ordinal)
                    && instrument.Meter.Tags?.Any(t => t.Key == NodeTag && Equals(t.Value, node)) == true)
                {
                    self.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => readings.Add(Reading(i, v, tags)));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => readings.Add(Reading(i, v, tags)));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => readings.Add(Reading(i, v, tags)));
        listener.Start();
        listener.RecordObservableInstruments();
        return [.. readings.OrderBy(r => r.Instrument, StringComparer.Ordinal).ThenBy(r => r.Tags, StringComparer.Ordinal)];
    }

    public void Dispose() => meter.Dispose();

    /// <summary>The OTLP exporter over every Totoro meter, or null when <c>totoro.metrics.otlp.enabled</c> is off.</summary>
    public static MeterProvider? CreateOtlpProvider(OtlpSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled)
        {
            return null;
        }
        return Sdk.CreateMeterProviderBuilder()
            .AddMeter(MeterName, TcpActorTransport.MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri(settings.Endpoint);
                exporter.Protocol = settings.Protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)settings.Interval.TotalMilliseconds;
            })
            .Build();
    }

    private static MetricReading Reading<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct, IConvertible
    {
        var rendered = new List<string>();
        foreach (var tag in tags)
        {
            rendered.Add($"{tag.Key}={tag.Value}");
        }
        return new MetricReading(instrument.Name, instrument.Unit ?? "", string.Join(',', rendered), value.ToDouble(CultureInfo.InvariantCulture));
    }

    private sealed class DeadLetterCounter : ReceiveActor
    {
        public DeadLetterCounter(NodeMetrics metrics) => Receive<DeadLetter>(_ => Interlocked.Increment(ref metrics.deadLetters));
    }
}
