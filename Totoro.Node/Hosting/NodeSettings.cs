using System.Text;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Hosting;

/// <summary>
/// A node's settings, read once from <c>totoro.node</c>, <c>totoro.cluster</c>, <c>totoro.remote</c> and
/// <c>totoro.metrics</c> (defaults in Totoro.Node's reference.conf). Secrets print as <c>***</c>.
/// </summary>
public sealed record NodeSettings
{
    public required string Name { get; init; }

    public required string Zone { get; init; }

    public required string DataDir { get; init; }

    public required string ClusterName { get; init; }

    /// <summary>The host peers dial (<c>totoro.remote.host</c>).</summary>
    public required string Host { get; init; }

    /// <summary>The interface listened on (<c>totoro.remote.bind-host</c>, default: <see cref="Host"/>).</summary>
    public required string BindHost { get; init; }

    /// <summary>0 picks a free port.</summary>
    public required int Port { get; init; }

    public required IReadOnlyList<NodeAddress> SeedNodes { get; init; }

    public required SecretText ClusterSecret { get; init; }

    public SecretText? AdminToken { get; init; }

    public TcpTlsSettings? Tls { get; init; }

    public required TimeSpan ShutdownTimeout { get; init; }

    public required TimeSpan HelloInterval { get; init; }

    public required OtlpSettings Otlp { get; init; }

    /// <summary>The transport's limits and timers (<c>totoro.transport.tcp</c>), already validated.</summary>
    public required TcpTransportSettings Transport { get; init; }

    /// <summary>Reads and validates the node sections; throws <see cref="SettingsException"/> listing every bad key.</summary>
    public static NodeSettings FromConfig(HoconConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var node = new SettingsReader(config, "totoro.node");
        var cluster = new SettingsReader(config, "totoro.cluster");
        var remote = new SettingsReader(config, "totoro.remote");
        var otlp = new SettingsReader(config, "totoro.metrics.otlp");
        var tcp = new SettingsReader(config, TcpTransportSettings.Section);

        var host = remote.String("host");
        var seeds = new List<NodeAddress>();
        var seedTexts = cluster.StringList("seed-nodes");
        for (var i = 0; i < seedTexts.Count; i++)
        {
            if (TryParseEndpoint(seedTexts[i], out var seed))
            {
                seeds.Add(seed);
            }
            else
            {
                cluster.Require(false, $"seed-nodes[{i}]", $"'{seedTexts[i]}' is not host:port");
            }
        }
        var hasSecret = config.HasPath("totoro.cluster.secret");
        cluster.Require(hasSecret, "secret", "is not set; export TOTORO_SECRET (at least 16 bytes) or set it in the config file");
        var secret = hasSecret ? cluster.String("secret") : "";
        cluster.Require(!hasSecret || Encoding.UTF8.GetByteCount(secret) >= 16, "secret", "must be at least 16 bytes");
        var adminToken = config.HasPath("totoro.node.admin-token") ? node.String("admin-token") : null;
        node.Require(adminToken is null || adminToken.Length >= 8, "admin-token", "must be at least 8 characters when set");
        var endpoint = otlp.String("endpoint");
        otlp.Require(Uri.TryCreate(endpoint, UriKind.Absolute, out _), "endpoint", $"'{endpoint}' is not an absolute URI");
        var protocol = otlp.String("protocol");
        otlp.Require(protocol is "grpc" or "http/protobuf", "protocol", $"must be grpc or http/protobuf, was '{protocol}'");

        var bindHost = config.HasPath("totoro.remote.bind-host") ? remote.String("bind-host") : host;
        var transport = new TcpTransportSettings
        {
            NodeId = node.String("name"),
            Incarnation = 1,
            ClusterSecret = Encoding.UTF8.GetBytes(secret),
            BindHost = bindHost,
            BindPort = remote.Int("port", min: 0, max: 65535),
            AdvertisedHost = host == bindHost ? null : host,
            Tls = config.HasPath("totoro.remote.tls.certificate-path") ? ReadTls(remote, config) : null,
            MaxFrameBytes = (int)tcp.Bytes("max-frame-bytes", min: 4096, max: 64 * 1024 * 1024),
            MaxBlobBytes = tcp.Bytes("max-blob-bytes", min: 1024, max: Array.MaxLength),
            BlobChunkBytes = (int)tcp.Bytes("blob-chunk-bytes", min: 1024, max: 64 * 1024 * 1024),
            BlobWindowBytes = (int)tcp.Bytes("blob-window-bytes", min: 1024, max: int.MaxValue),
            MaxBatchBytes = (int)tcp.Bytes("max-batch-bytes", min: 1024, max: 64 * 1024 * 1024),
            MaxEnvelopeHeaderBytes = tcp.Int("max-envelope-header-bytes", min: 64, max: 65536),
            SendQueueLength = tcp.Int("send-queue-length", min: 1),
            ControlQueueLength = tcp.Int("control-queue-length", min: 1),
            HandshakeTimeout = tcp.Duration("handshake-timeout", min: TimeSpan.FromMilliseconds(1)),
            IdleTimeout = tcp.Duration("idle-timeout", min: TimeSpan.FromMilliseconds(100)),
            ReconnectBackoffMin = tcp.Duration("reconnect-backoff-min", min: TimeSpan.FromMilliseconds(1)),
            ReconnectBackoffMax = tcp.Duration("reconnect-backoff-max", min: TimeSpan.FromMilliseconds(1)),
            SocketBufferBytes = (int)tcp.Bytes("socket-buffer-bytes", min: 4096, max: int.MaxValue),
            MaxInboundConnections = tcp.Int("max-inbound-connections", min: 1),
            MaxBlobMemory = tcp.Bytes("max-blob-memory", min: 1024, max: long.MaxValue),
            MaxBlobMemoryPerConnection = tcp.Bytes("max-blob-memory-per-connection", min: 1024, max: long.MaxValue),
        };
        var settings = new NodeSettings
        {
            Name = node.String("name"),
            Zone = node.String("zone"),
            DataDir = node.String("data-dir"),
            ShutdownTimeout = node.Duration("shutdown-timeout", min: TimeSpan.FromMilliseconds(1)),
            HelloInterval = node.Duration("hello-interval", min: TimeSpan.FromMilliseconds(10)),
            AdminToken = adminToken is null ? null : new SecretText(adminToken),
            ClusterName = cluster.String("name"),
            ClusterSecret = new SecretText(secret),
            SeedNodes = seeds,
            Host = host,
            BindHost = bindHost,
            Port = transport.BindPort,
            Tls = transport.Tls,
            Transport = transport,
            Otlp = new OtlpSettings(otlp.Boolean("enabled"), endpoint, protocol, otlp.Duration("interval", min: TimeSpan.FromSeconds(1))),
        };
        node.Require(settings.Name.Trim().Length > 0, "name", "must not be empty");
        remote.Require(settings.Host.Trim().Length > 0, "host", "must not be empty");
        var errors = node.Errors.Concat(cluster.Errors).Concat(remote.Errors).Concat(otlp.Errors).Concat(tcp.Errors).ToList();
        if (errors.Count == 0)
        {
            try
            {
                transport.Validate();
            }
            catch (TcpTransportSettingsException e)
            {
                // Cross-field rules of the transport (chunk + header within a frame, back-off order, ...), named by our keys.
                errors.Add(NodeKeyOf(e.KeyPath) + e.Message[e.KeyPath.Length..]);
            }
        }
        return errors.Count == 0 ? settings : throw new SettingsException(errors);
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Name = {Name}, Zone = {Zone}, Cluster = {ClusterName}, Host = {Host}, BindHost = {BindHost}, Port = {Port}, ");
        builder.Append($"SeedNodes = [{string.Join(", ", SeedNodes)}], DataDir = {DataDir}, ClusterSecret = {ClusterSecret}, ");
        builder.Append($"AdminToken = {(AdminToken is null ? "none" : AdminToken.ToString())}, Tls = {(Tls is null ? "off" : Tls.CertificatePath)}, ");
        builder.Append($"ShutdownTimeout = {ShutdownTimeout}, HelloInterval = {HelloInterval}, Otlp = {Otlp}");
        return true;
    }

    /// <summary>The TCP transport's settings for this node; <paramref name="incarnation"/> differs on every start.</summary>
    public TcpTransportSettings ToTransportSettings(long incarnation) => Transport with { Incarnation = incarnation };

    /// <summary>Where the node's config holds a value the transport names by its own key.</summary>
    private static string NodeKeyOf(string transportKey)
    {
        var key = transportKey[(TcpTransportSettings.Section.Length + 1)..];
        return key switch
        {
            "cluster-secret" => "totoro.cluster.secret",
            "bind-host" => "totoro.remote.bind-host",
            "bind-port" => "totoro.remote.port",
            "advertised-host" => "totoro.remote.host",
            _ when key.StartsWith("tls.", StringComparison.Ordinal) => "totoro.remote." + key,
            _ => transportKey,
        };
    }

    private static TcpTlsSettings ReadTls(SettingsReader remote, HoconConfig config) => new()
    {
        CertificatePath = remote.String("tls.certificate-path"),
        CertificatePassword = config.HasPath("totoro.remote.tls.certificate-password") ? remote.String("tls.certificate-password") : null,
        CaCertificatePath = config.HasPath("totoro.remote.tls.ca-path") ? remote.String("tls.ca-path") : null,
        PinnedThumbprints = config.HasPath("totoro.remote.tls.pinned-thumbprints") ? remote.StringList("tls.pinned-thumbprints") : [],
    };

    internal static bool TryParseEndpoint(string text, out NodeAddress address)
    {
        try
        {
            address = NodeAddress.Parse(text);
            return address.Port > 0 && address.Host.Length > 0;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            address = default;
            return false;
        }
    }
}

/// <summary>Whether and where the node exports its meters over OTLP (<c>totoro.metrics.otlp</c>).</summary>
public sealed record OtlpSettings(bool Enabled, string Endpoint, string Protocol, TimeSpan Interval);

/// <summary>A secret that never prints: <see cref="ToString"/> gives <c>***</c>.</summary>
public sealed record SecretText(string Value)
{
    public override string ToString() => "***";
}
