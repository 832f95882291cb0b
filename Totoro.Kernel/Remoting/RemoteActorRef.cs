namespace Totoro.Kernel;

/// <summary>A ref to an actor on another node: Tell serializes (unless by reference) and hands the envelope to the transport.</summary>
internal sealed class RemoteActorRef(ActorPath path, Remoting remoting) : InternalActorRef
{
    public override ActorPath Path => path;

    internal override ActorSystem Owner => remoting.System;

    public override void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        remoting.Send(this, message, sender);
    }

    public override void SendSystemMessage(SystemMessage message) => remoting.SendSystem(this, message);
}
