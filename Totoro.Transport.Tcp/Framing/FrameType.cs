namespace Totoro.Transport.Tcp.Framing;

/// <summary>Byte 4 of every frame header. Values are wire format: never renumber.</summary>
internal enum FrameType : byte
{
    Handshake = 1,
    Batch = 2,
    Heartbeat = 3,
    BlobStart = 4,
    BlobChunk = 5,
    Credit = 6,
}

/// <summary>A frame the peer sent that this node refuses; the connection is closed with the reason.</summary>
internal sealed class ProtocolViolationException : Exception
{
    public ProtocolViolationException(CloseReason reason, string message)
        : base(message) => Reason = reason;

    public ProtocolViolationException()
    {
    }

    public ProtocolViolationException(string message)
        : base(message)
    {
    }

    public ProtocolViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CloseReason Reason { get; } = CloseReason.MalformedFrame;
}
