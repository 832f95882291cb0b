using Microsoft.Extensions.Logging;

namespace Totoro.Kernel;

/// <summary>Cell state most actors never need, allocated on first use to keep an idle actor small.</summary>
internal sealed class CellExtras
{
    public HashSet<InternalActorRef>? WatchedBy;
    public HashSet<InternalActorRef>? Watching;
    public StashBuffer? Stash;
    public Queue<Envelope>? Unstashed;
    public Dictionary<ActorCell, RestartStatistics>? ChildStats;
    public Exception? RecreateCause;
    public object? FailedMessage;
    public InternalActorRef? Perpetrator;
    public ActorSynchronizationContext? SyncContext;
    public SystemMessage? SystemBacklog;
    public ILogger? Logger;
    public long AutoNameCounter;
}
