namespace Totoro.Kernel;

/// <summary>A user message in flight with the ref to reply to. A struct, so queueing it allocates nothing.</summary>
internal readonly record struct Envelope(object Message, IActorRef? Sender);
