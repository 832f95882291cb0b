namespace Totoro.Transport.Tcp;

/// <summary>
/// Why a connection ended or was refused. Each value is a metric tag (see <see cref="CloseReasons.Tag"/>); the
/// numeric values travel in handshake verdicts, so never renumber them.
/// </summary>
public enum CloseReason
{
    LocalShutdown = 0,
    RemoteClosed = 1,
    ConnectionReset = 2,
    ConnectFailed = 3,
    HandshakeTimeout = 4,
    IdleTimeout = 5,
    VersionMismatch = 6,
    AuthenticationFailed = 7,
    TlsFailed = 8,
    HandshakeViolation = 9,
    FrameTooLarge = 10,
    TruncatedFrame = 11,
    UnknownFrameType = 12,
    BadLane = 13,
    MalformedFrame = 14,
    HeaderTooLarge = 15,
    BlobTooLarge = 16,
    BlobViolation = 17,
    FlowControlViolation = 18,
    UnknownManifest = 19,
    MalformedPayload = 20,
    Duplicate = 21,
    Superseded = 22,
    HandlerFailed = 23,
    InternalError = 24,

    /// <summary>
    /// A blob did not fit <c>max-blob-memory</c> or <c>max-blob-memory-per-connection</c> (blobs in reassembly plus
    /// blobs the upper layer still holds); not counted as a reject, since the upper layer may be the one holding.
    /// </summary>
    BlobMemoryExhausted = 25,
}

public static class CloseReasons
{
    private static readonly string[] Tags =
    [
        "local_shutdown", "remote_closed", "connection_reset", "connect_failed", "handshake_timeout", "idle_timeout",
        "version_mismatch", "authentication_failed", "tls_failed", "handshake_violation", "frame_too_large",
        "truncated_frame", "unknown_frame_type", "bad_lane", "malformed_frame", "header_too_large", "blob_too_large",
        "blob_violation", "flow_control_violation", "unknown_manifest", "malformed_payload", "duplicate", "superseded",
        "handler_failed", "internal_error", "blob_memory_exhausted",
    ];

    /// <summary>Number of reasons; valid values are 0 .. Count - 1.</summary>
    public static int Count => Tags.Length;

    /// <summary>The snake_case metric tag of a reason.</summary>
    public static string Tag(this CloseReason reason) => Tags[(int)reason];

    /// <summary>
    /// True when the reason blames the peer's bytes or credentials: the connection was rejected, not merely lost.
    /// These are the reasons counted under <c>totoro.transport.tcp.rejects</c>.
    /// </summary>
    public static bool IsReject(this CloseReason reason) => reason is CloseReason.HandshakeTimeout
        or CloseReason.VersionMismatch or CloseReason.AuthenticationFailed or CloseReason.TlsFailed
        or CloseReason.HandshakeViolation or CloseReason.FrameTooLarge or CloseReason.TruncatedFrame
        or CloseReason.UnknownFrameType or CloseReason.BadLane or CloseReason.MalformedFrame
        or CloseReason.HeaderTooLarge or CloseReason.BlobTooLarge or CloseReason.BlobViolation
        or CloseReason.FlowControlViolation or CloseReason.UnknownManifest or CloseReason.MalformedPayload;
}
