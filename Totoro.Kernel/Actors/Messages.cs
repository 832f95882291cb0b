namespace Totoro.Kernel;

/// <summary>Delivered to a watcher when a watched actor stops (or its node is declared down).</summary>
public sealed record Terminated(IActorRef ActorRef, bool AddressTerminated = false);

/// <summary>Stops the receiving actor after the messages ahead of it, like any user message.</summary>
public sealed record PoisonPill
{
    public static readonly PoisonPill Instance = new();
}

/// <summary>The failure result of <see cref="PipeToExtensions.PipeTo{T}"/> and of a failed <c>Ask</c>.</summary>
public sealed record StatusFailure(Exception Cause);

/// <summary>Published on the event stream when a message could not be delivered.</summary>
public sealed record DeadLetter(object Message, IActorRef? Sender, IActorRef Recipient);

/// <summary>Published on the event stream when an actor had no handler for a message.</summary>
public sealed record UnhandledMessage(object Message, IActorRef? Sender, IActorRef Recipient);

/// <summary>Published on the event stream when an actor failed and its supervisor decided what to do.</summary>
public sealed record ActorFailure(IActorRef Actor, Exception Cause, Directive Directive);
