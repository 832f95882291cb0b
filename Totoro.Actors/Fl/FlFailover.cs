using System.Collections.Immutable;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>A topology that knows which nodes take over an app when its root fails: the next-closest to the app's key.</summary>
public interface IFlSuccessors
{
    /// <summary>Up to <paramref name="count"/> nodes after the root, in take-over order.</summary>
    ImmutableArray<Address> Successors(string app, int count);
}

/// <summary>
/// Root → each successor's <c>/user/fl</c> after every evaluated round: enough to resume the app — the spec, the run,
/// the last finished round with its global model, server-optimizer state and report (re-sent on resume, so the client
/// misses no round whose report was lost with the root), the client that gets the reports, and the root that sent it
/// (a successor takes over only when that root is gone).
/// </summary>
internal sealed record AppReplica(
    AppSpec Spec,
    long Run,
    long Round,
    GlobalModel Model,
    ServerOptimizerState Optimizer,
    double LastAccuracy,
    IActorRef Client,
    Address Root,
    RoundReport? LastReport) : ISizedMessage
{
    public int WireSize => Model.WireSize + ((Optimizer.First.Length + Optimizer.Second.Length) * 4) + 512;
}

/// <summary>
/// Root → its successors (those it replicated to and the current ones): the app ended; forget its replica and
/// remember <see cref="Final"/>, how it ended, so a status query still finds it after the root is gone.
/// </summary>
internal sealed record DropReplica(string App, long Run, AppStatus? Final = null);

/// <summary>
/// The replicas a node holds, the latest per app (a newer run, or a later round of the same run, replaces an older
/// one). Immutable. <see cref="TakeOvers"/> picks those this node must resume under a new topology.
/// </summary>
internal sealed record ReplicaBook(ImmutableDictionary<string, AppReplica> Replicas)
{
    public static ReplicaBook Empty { get; } = new(ImmutableDictionary<string, AppReplica>.Empty);

    public ReplicaBook Store(AppReplica replica) =>
        Replicas.TryGetValue(replica.Spec.Name, out var held) && (held.Run > replica.Run || (held.Run == replica.Run && held.Round >= replica.Round))
            ? this
            : new(Replicas.SetItem(replica.Spec.Name, replica));

    public ReplicaBook Drop(string app, long run) =>
        Replicas.TryGetValue(app, out var held) && held.Run <= run ? new(Replicas.Remove(app)) : this;

    /// <summary>
    /// The replicas whose root left <paramref name="topology"/> and whose app now maps to <paramref name="self"/>:
    /// this node is the next-closest live member and resumes them. A root that is still a member keeps its app.
    /// </summary>
    public ImmutableArray<AppReplica> TakeOvers(IFlTopology topology, Address self) =>
    [
        .. Replicas.Values
            .Where(r => topology.Root(r.Spec.Name) == self && !topology.Workers(r.Spec.Name).Contains(r.Root))
            .OrderBy(r => r.Spec.Name, StringComparer.Ordinal),
    ];

    public ReplicaBook Without(string app) => new(Replicas.Remove(app));
}
