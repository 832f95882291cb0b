namespace Totoro.Transport.Tcp;

/// <summary>
/// Everything the TCP transport can be told, with the HOCON key of each value (section <c>totoro.transport.tcp</c>).
/// <see cref="Validate"/> checks the whole record once; the transport refuses to start with invalid settings.
/// </summary>
public sealed record TcpTransportSettings
{
    /// <summary>The wire protocol this build speaks; peers must match it exactly.</summary>
    public const uint CurrentProtocolVersion = 1;

    public const string Section = "totoro.transport.tcp";

    /// <summary>Informational node id sent in the handshake (<c>node-id</c>).</summary>
    public required string NodeId { get; init; }

    /// <summary>Differs on every start of the node, e.g. the start time in ms (<c>incarnation</c>); must be non-zero.</summary>
    public required long Incarnation { get; init; }

    /// <summary>Shared by all cluster members; at least 16 bytes (<c>cluster-secret</c>, base64 in HOCON).</summary>
    public required ReadOnlyMemory<byte> ClusterSecret { get; init; }

    /// <summary>Interface to bind (<c>bind-host</c>).</summary>
    public string BindHost { get; init; } = "127.0.0.1";

    /// <summary>Port to bind; 0 picks a free one, read back from <see cref="TcpTransport.LocalAddress"/> (<c>bind-port</c>).</summary>
    public int BindPort { get; init; }

    /// <summary>Host other nodes dial, when it differs from the bind host (<c>advertised-host</c>).</summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>Largest frame payload accepted or sent (<c>max-frame-bytes</c>).</summary>
    public int MaxFrameBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest payload of one message, which then travels as a chunked blob (<c>max-blob-bytes</c>).</summary>
    public long MaxBlobBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>
    /// Inbound blob bytes the whole node holds at most: blobs in reassembly (their declared size, reserved at
    /// <c>BLOB_START</c>) plus delivered blobs the upper layer retained (<c>max-blob-memory</c>).
    /// </summary>
    public long MaxBlobMemory { get; init; } = 1024L * 1024 * 1024;

    /// <summary>The same budget for the blobs of one connection (<c>max-blob-memory-per-connection</c>).</summary>
    public long MaxBlobMemoryPerConnection { get; init; } = 512L * 1024 * 1024;

    /// <summary>Blob chunk size; payloads above it go as blobs (<c>blob-chunk-bytes</c>).</summary>
    public int BlobChunkBytes { get; init; } = 256 * 1024;

    /// <summary>Blob bytes a receiver accepts before granting more credit: the most ever in flight (<c>blob-window-bytes</c>).</summary>
    public int BlobWindowBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Coalesce small envelopes into frames of about this size before a flush (<c>max-batch-bytes</c>).</summary>
    public int MaxBatchBytes { get; init; } = 64 * 1024;

    /// <summary>UTF-8 bytes of recipient + sender + manifest of one envelope (<c>max-envelope-header-bytes</c>).</summary>
    public int MaxEnvelopeHeaderBytes { get; init; } = 4096;

    /// <summary>Bulk messages queued per peer before Send reports back-pressure (<c>send-queue-length</c>).</summary>
    public int SendQueueLength { get; init; } = 65_536;

    /// <summary>Control messages queued per peer before Send reports back-pressure (<c>control-queue-length</c>).</summary>
    public int ControlQueueLength { get; init; } = 4096;

    /// <summary>Connect + TLS + handshake must finish within this (<c>handshake-timeout</c>).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A connection that receives nothing for this long is closed; pings go out at a quarter of it (<c>idle-timeout</c>).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First reconnect delay (<c>reconnect-backoff-min</c>).</summary>
    public TimeSpan ReconnectBackoffMin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Cap of the doubling reconnect delay (<c>reconnect-backoff-max</c>).</summary>
    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Kernel socket send/receive buffer size (<c>socket-buffer-bytes</c>).</summary>
    public int SocketBufferBytes { get; init; } = 1024 * 1024;

    /// <summary>Most inbound connections served at once (<c>max-inbound-connections</c>).</summary>
    public int MaxInboundConnections { get; init; } = 4096;

    /// <summary>TLS under the handshake; null for plain TCP (<c>tls</c>).</summary>
    public TcpTlsSettings? Tls { get; init; }

    /// <summary>Tests set this to simulate a peer from another release.</summary>
    internal uint ProtocolVersion { get; init; } = CurrentProtocolVersion;

    /// <summary>Bytes a frame may spend around the data of one blob chunk (protobuf tags and lengths).</summary>
    internal const int ChunkOverheadBytes = 32;

    /// <summary>Throws <see cref="TcpTransportSettingsException"/> naming the first offending key.</summary>
    public TcpTransportSettings Validate()
    {
        Require(!string.IsNullOrWhiteSpace(NodeId), "node-id", "must not be empty");
        Require(Incarnation != 0, "incarnation", "must be non-zero");
        Require(ClusterSecret.Length >= 16, "cluster-secret", "must be at least 16 bytes");
        Require(!string.IsNullOrWhiteSpace(BindHost), "bind-host", "must not be empty");
        Require(BindPort is >= 0 and <= 65535, "bind-port", "must be 0..65535");
        Require(AdvertisedHost is null || AdvertisedHost.Trim().Length > 0, "advertised-host", "must not be blank");
        Require(MaxFrameBytes is >= 4096 and <= 64 * 1024 * 1024, "max-frame-bytes", "must be 4 KiB..64 MiB");
        Require(BlobChunkBytes >= 1024, "blob-chunk-bytes", "must be at least 1 KiB");
        Require(BlobChunkBytes + ChunkOverheadBytes <= MaxFrameBytes, "blob-chunk-bytes", "plus 32 bytes of framing must fit max-frame-bytes");
        Require(MaxEnvelopeHeaderBytes is >= 64 and <= 65536, "max-envelope-header-bytes", "must be 64..65536");
        Require((long)BlobChunkBytes + MaxEnvelopeHeaderBytes + 64 <= MaxFrameBytes, "max-frame-bytes",
            "must hold one blob-chunk-bytes payload plus max-envelope-header-bytes plus 64 bytes");
        Require(MaxBlobBytes >= BlobChunkBytes && MaxBlobBytes <= Array.MaxLength, "max-blob-bytes",
            "must be at least blob-chunk-bytes and at most the largest .NET array");
        Require(MaxBlobMemoryPerConnection >= MaxBlobBytes, "max-blob-memory-per-connection", "must be at least max-blob-bytes");
        Require(MaxBlobMemory >= MaxBlobMemoryPerConnection, "max-blob-memory", "must be at least max-blob-memory-per-connection");
        Require(BlobWindowBytes >= BlobChunkBytes, "blob-window-bytes", "must be at least blob-chunk-bytes");
        Require(MaxBatchBytes >= 1024 && MaxBatchBytes <= MaxFrameBytes, "max-batch-bytes", "must be 1 KiB..max-frame-bytes");
        Require(SendQueueLength > 0, "send-queue-length", "must be positive");
        Require(ControlQueueLength > 0, "control-queue-length", "must be positive");
        Require(HandshakeTimeout > TimeSpan.Zero, "handshake-timeout", "must be positive");
        Require(IdleTimeout >= TimeSpan.FromMilliseconds(100), "idle-timeout", "must be at least 100 ms");
        Require(ReconnectBackoffMin > TimeSpan.Zero, "reconnect-backoff-min", "must be positive");
        Require(ReconnectBackoffMax >= ReconnectBackoffMin, "reconnect-backoff-max", "must be at least reconnect-backoff-min");
        Require(SocketBufferBytes >= 4096, "socket-buffer-bytes", "must be at least 4 KiB");
        Require(MaxInboundConnections > 0, "max-inbound-connections", "must be positive");
        Tls?.Validate();
        return this;
    }

    private static void Require(bool condition, string key, string message)
    {
        if (!condition)
        {
            throw new TcpTransportSettingsException($"{Section}.{key}", message);
        }
    }
}

/// <summary>Certificates from files; the peer must present a certificate trusted by the CA file or a pinned thumbprint.</summary>
public sealed record TcpTlsSettings
{
    /// <summary>PKCS#12 file with this node's certificate and private key (<c>tls.certificate-path</c>).</summary>
    public required string CertificatePath { get; init; }

    /// <summary>Password of the PKCS#12 file (<c>tls.certificate-password</c>).</summary>
    public string? CertificatePassword { get; init; }

    /// <summary>PEM or DER file of the CA that signs peer certificates (<c>tls.ca-path</c>).</summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>SHA-256 (or SHA-1) hex thumbprints of accepted peer certificates (<c>tls.pinned-thumbprints</c>).</summary>
    public IReadOnlyList<string> PinnedThumbprints { get; init; } = [];

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(CertificatePath))
        {
            throw new TcpTransportSettingsException($"{TcpTransportSettings.Section}.tls.certificate-path", "must not be empty");
        }
        if (CaCertificatePath is null && PinnedThumbprints.Count == 0)
        {
            throw new TcpTransportSettingsException($"{TcpTransportSettings.Section}.tls.ca-path",
                "a CA file or at least one tls.pinned-thumbprints entry is required to trust peers");
        }
    }
}

public sealed class TcpTransportSettingsException : Exception
{
    public TcpTransportSettingsException(string keyPath, string message)
        : base($"{keyPath}: {message}") => KeyPath = keyPath;

    public TcpTransportSettingsException()
    {
        KeyPath = TcpTransportSettings.Section;
    }

    public TcpTransportSettingsException(string message)
        : base(message) => KeyPath = TcpTransportSettings.Section;

    public TcpTransportSettingsException(string message, Exception innerException)
        : base(message, innerException) => KeyPath = TcpTransportSettings.Section;

    /// <summary>The HOCON path of the offending value.</summary>
    public string KeyPath { get; }
}
