namespace Totoro.Kernel;

/// <summary>
/// Installed while an async handler runs: every continuation is posted back through the actor's dispatcher,
/// so it runs on the deterministic world's thread in virtual-time order, or on a pool thread while the actor
/// still holds its mailbox.
/// </summary>
internal sealed class ActorSynchronizationContext(ActorCell cell) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => cell.Dispatcher.Post(cell, d, state);

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Synchronous Send into an actor would block its dispatcher.");

    public override SynchronizationContext CreateCopy() => this;
}
