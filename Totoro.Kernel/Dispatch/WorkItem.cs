namespace Totoro.Kernel;

/// <summary>One step of the deterministic world. Three references and a sequence number; no allocation to queue.</summary>
internal readonly struct WorkItem
{
    public readonly long Seq;
    public readonly object? Target;
    public readonly object? Message;
    public readonly object? Extra;
    public readonly WorkKind Kind;

    public WorkItem(long seq, WorkKind kind, object? target, object? message, object? extra)
    {
        Seq = seq;
        Kind = kind;
        Target = target;
        Message = message;
        Extra = extra;
    }
}

internal enum WorkKind : byte
{
    Deliver,
    System,
    Drain,
    Continuation,
    Callback,
    Tell,
    Timer,
    ActorTimer,
}
