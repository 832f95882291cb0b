namespace Totoro.Kernel;

public static class ActorRefExtensions
{
    /// <summary>Passes a message on, keeping the original sender so the reply goes straight back.</summary>
    public static void Forward(this IActorRef target, object message, IActorContext context)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(context);
        target.Tell(message, context.Sender);
    }
}
