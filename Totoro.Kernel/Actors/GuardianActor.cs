namespace Totoro.Kernel;

/// <summary>The root and /user actors: they only parent and supervise. No handler table, so a node stays small.</summary>
internal sealed class GuardianActor : ActorBase
{
    internal override Task? Dispatch(object message)
    {
        InvokeUnhandled(message);
        return null;
    }
}
