namespace Totoro.Kernel;

/// <summary>Well-known refs.</summary>
public static class ActorRefs
{
    /// <summary>Use as the sender when there is no actor to reply to.</summary>
    public static readonly IActorRef? NoSender;
}
