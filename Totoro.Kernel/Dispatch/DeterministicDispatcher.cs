namespace Totoro.Kernel;

/// <summary>Every actor of every system on one world goes through the world's single (virtual time, sequence) queue.</summary>
internal sealed class DeterministicDispatcher(DeterministicWorld world) : Dispatcher
{
    public override int Throughput => 1;

    internal override bool IsDeterministic => true;

    internal DeterministicWorld World => world;

    internal override void Dispatch(ActorCell cell, in Envelope envelope) =>
        world.EnqueueNow(WorkKind.Deliver, cell, envelope.Message, envelope.Sender);

    internal override void SystemDispatch(ActorCell cell, SystemMessage message)
    {
        cell.PushSystem(message);
        world.EnqueueNow(WorkKind.System, cell, null, null);
    }

    internal override void Post(ActorCell cell, SendOrPostCallback callback, object? state) =>
        world.EnqueueNow(WorkKind.Continuation, cell, callback, state);

    internal override void ScheduleDrain(ActorCell cell) => world.EnqueueNow(WorkKind.Drain, cell, null, null);
}
