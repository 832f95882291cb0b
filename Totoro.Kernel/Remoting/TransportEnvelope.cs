namespace Totoro.Kernel;

/// <summary>
/// One message crossing a node boundary: recipient and sender paths, and either serialized bytes under a manifest or,
/// in by-reference mode, the message object itself (then <see cref="Size"/> comes from <see cref="ISizedMessage"/>).
/// </summary>
public sealed record TransportEnvelope(string Recipient, string? Sender, string Manifest, ReadOnlyMemory<byte> Payload, object? Message = null)
{
    /// <summary>Assumed wire size of a by-reference message that does not say its size.</summary>
    public const int DefaultByReferenceSize = 64;

    /// <summary>Bytes this envelope occupies on a link (payload plus the two paths and the manifest).</summary>
    public int Size => (Message is null ? Payload.Length : (Message as ISizedMessage)?.WireSize ?? DefaultByReferenceSize)
        + Recipient.Length + (Sender?.Length ?? 0) + Manifest.Length;
}
