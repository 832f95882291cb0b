namespace Totoro.Kernel;

/// <summary>
/// An actor whose handling of a message has a pure part that can be computed before the message is delivered, on
/// another thread. A <see cref="DeterministicWorld"/> with a <see cref="DeterministicWorld.PrepareWindow"/> takes the
/// tells due within that window from its queue and calls <see cref="Prepare"/> for them in parallel, one call per
/// actor at a time; it then delivers them one by one in the usual (virtual time, sequence) order, on its own thread.
/// </summary>
/// <remarks>
/// The contract that keeps a run deterministic: <see cref="Prepare"/> reads only this actor's own state and the
/// message, changes nothing anyone else can see, and keeps its result together with the inputs it used (the state
/// version, the message instance, the timestamp). When the message is delivered, the actor uses the result only if
/// those inputs are still exactly the current ones (an earlier step may have changed the state meanwhile) and
/// otherwise computes as it always does. So preparing changes which thread computes a step, never the step.
/// </remarks>
public interface IPrepareAhead
{
    /// <summary>
    /// Computes the pure part of handling <paramref name="message"/>, to be delivered when the actor's clock reads
    /// <paramref name="timestamp"/> (the value <see cref="TimeProvider.GetTimestamp"/> of the actor's time will return
    /// then). Runs concurrently with other actors' calls, never with this actor's own message handling. Exceptions
    /// are ignored: the delivery then computes the step itself and fails there, under supervision.
    /// </summary>
    void Prepare(object message, long timestamp);
}
