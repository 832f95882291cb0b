using Microsoft.Extensions.Logging;

namespace Totoro.Kernel;

/// <summary>The kernel's structured log events (ids 1000–1099).</summary>
internal static partial class KernelLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Warning, Message = "Actor {Path} failed; supervisor decided {Directive}")]
    public static partial void ChildFailed(ILogger logger, ActorPath path, Directive directive, Exception exception);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "The root guardian {Path} failed; resuming it")]
    public static partial void RootFailed(ILogger logger, ActorPath path, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Actor {Path} failed while stopping")]
    public static partial void StoppedActorFailed(ILogger logger, ActorPath path, Exception exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Actor {Path} stopped")]
    public static partial void ActorStopped(ILogger logger, ActorPath path);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Dead letter {MessageType} from {Sender} to {Recipient}")]
    public static partial void DeadLetter(ILogger logger, string messageType, string sender, string recipient);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Dropped inbound message with manifest {Manifest} for {Recipient}: bad path or bytes")]
    public static partial void InboundDeserializationFailed(ILogger logger, string manifest, string recipient, Exception exception);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Node {Node} is down; terminating {Count} remote watches")]
    public static partial void NodeDown(ILogger logger, Address node, int count);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Actor system {Address} started")]
    public static partial void SystemStarted(ILogger logger, Address address);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Actor system {Address} terminated")]
    public static partial void SystemTerminated(ILogger logger, Address address);
}
