namespace Totoro.Kernel;

/// <summary>One envelope delivered by the in-memory transport at virtual time <see cref="At"/>.</summary>
public sealed record TransportDelivery(TimeSpan At, Address From, Address To, TransportEnvelope Envelope);
