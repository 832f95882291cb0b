namespace Totoro.Kernel;

/// <summary>
/// An actor whose handling of a message has a pure part that can be computed before the message is delivered, on
/// another thread. A <see cref="DeterministicWorld"/> with a <see cref="DeterministicWorld.PrepareWindow"/> takes the
/// tells due in the next window from its queue and has other threads call <see cref="Prepare"/> for them (one call
/// per actor and window) while its own thread runs the current window; it then delivers them one by one in the usual
/// (virtual time, sequence) order, on its own thread.
/// </summary>
/// <remarks>
/// The contract that keeps a run deterministic: <see cref="Prepare"/> reads only this actor's own state and the
/// message, changes nothing anyone else can see, and keeps its result together with the inputs it used (the state
/// version, the message instance, the timestamp). When the message is delivered, the actor uses the result only if
/// those inputs are still exactly the current ones (an earlier step may have changed the state meanwhile) and
/// otherwise computes as it always does. So preparing changes which thread computes a step, never the step.
/// <see cref="Prepare"/> may run while the actor handles an earlier message on the world's thread (never together with
/// another <see cref="Prepare"/> for the same actor): read the state once, as one immutable reference, and publish and
/// take the result as one immutable object with atomic reference operations.
/// </remarks>
public interface IPrepareAhead
{
    /// <summary>
    /// Computes the pure part of handling <paramref name="message"/>, to be delivered when the actor's clock reads
    /// <paramref name="timestamp"/> (the value <see cref="TimeProvider.GetTimestamp"/> of the actor's time will return
    /// then). Runs on any thread, concurrently with other actors' calls and possibly with this actor's handling of an
    /// earlier message. Exceptions are ignored: the delivery then computes the step itself and fails there, under
    /// supervision.
    /// </summary>
    void Prepare(object message, long timestamp);
}
