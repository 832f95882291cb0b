namespace Totoro.Transport.Tcp;

/// <summary>An envelope waiting in a peer queue, with the UTF-8 sizes Send measured once.</summary>
internal readonly record struct OutboundItem(TransportEnvelope Envelope, int RecipientBytes, int SenderBytes, int ManifestBytes, bool IsBlob);
