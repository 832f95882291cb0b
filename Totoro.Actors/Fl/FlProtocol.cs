using System.Collections.Immutable;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Data;
using Totoro.Ml.Serialization;

namespace Totoro.Actors.Fl;

/// <summary>A round's global model: flat parameters of one architecture at one version (the round that produced it).</summary>
internal sealed record GlobalModel(ulong ArchitectureId, long Version, ReadOnlyMemory<float> Parameters)
{
    public int WireSize => (int)UpdateCodec.EncodedLength(new UpdateHeader(ArchitectureId, (ulong)Version, Parameters.Length, PayloadEncoding.Float32, 0));
}

/// <summary>
/// Client → any node's <c>/user/fl</c> → the app's root: run this app; reports go to <paramref name="Client"/>.
/// <paramref name="Hops"/> counts forwards, so hosts whose topologies disagree cannot pass it around forever.
/// </summary>
internal sealed record SubmitApp(AppSpec Spec, IActorRef Client, int Hops = 0);

/// <summary>Root → client: the app runs, its coordinator is on <paramref name="Root"/>.</summary>
internal sealed record AppAccepted(string App, Address Root);

/// <summary>Root → client: the app was not started (e.g. one of that name is running).</summary>
internal sealed record AppRejected(string App, string Reason);

/// <summary>Client → root: stop the app after the current step.</summary>
internal sealed record CancelApp(string App);

/// <summary>
/// Parent → child along the app's tree: round <paramref name="Round"/> of run <paramref name="Run"/> (one submission
/// of the app; a resubmitted app is a new run) starts with the model that <paramref name="Model"/> describes, whose
/// <see cref="ModelChunk"/>s follow; <paramref name="Workers"/> are the invited workers in the child's subtree; the
/// child must report within <paramref name="Budget"/> of receiving this (relative, so no clock sync is needed).
/// </summary>
internal sealed record RoundStart(AppSpec Spec, long Run, long Round, ModelManifest Model, ImmutableArray<int> Workers, TimeSpan Budget, Address Coordinator) : ISizedMessage
{
    public int WireSize => 256 + ModelManifest.WireSize + (Workers.Length * 4);
}

/// <summary>
/// Parent → child after the RoundStart: piece <paramref name="Index"/> of the round's model. A tree node passes each
/// chunk on to its children the moment it arrives (cut-through), so the model streams down the tree instead of
/// being stored and forwarded whole at every level. <paramref name="Checksum"/> is the whole model's
/// (<see cref="ModelManifest.Checksum"/>): chunks of another round, run or model version are never assembled.
/// </summary>
internal sealed record ModelChunk(string App, long Run, long Round, int Index, ulong Checksum, ReadOnlyMemory<float> Values) : ISizedMessage
{
    public int WireSize => 64 + App.Length + (int)UpdateCodec.EncodedLength(new UpdateHeader(0, 0, Values.Length, PayloadEncoding.Float32, 0));
}

/// <summary>Coordinator → its own node's tree role: the round's whole model (the root holds every chunk at once).</summary>
internal sealed record RoundModel(string App, long Run, long Round, GlobalModel Model) : ILocalMessage;

/// <summary>Worker → root (via the root's <c>/user/fl</c>): trained, may I send? Keeps exactly the first K of an over-selected round.</summary>
internal sealed record UpdateReady(string App, long Run, long Round, int Worker, Address WorkerNode) : ISizedMessage
{
    public int WireSize => 64 + App.Length;
}

/// <summary>Root → worker's node: send your update (true) or drop it (false).</summary>
internal sealed record Admission(string App, long Run, long Round, int Worker, bool Admitted) : ISizedMessage
{
    public int WireSize => 64 + App.Length;
}

/// <summary>
/// Child → parent: the subtree's result for (app, round): one folded partial (foldable rules; null when nothing
/// arrived) or the raw updates (relayed for non-foldable rules), plus the subtree's counters.
/// </summary>
internal sealed record SubtreeResult(string App, long Run, long Round, Address From, PartialAggregate? Folded, ImmutableArray<ClientUpdate> Relayed, RoundCounters Counters) : ISizedMessage
{
    public int WireSize =>
        128 + (Folded is null ? 0 : Folded.VectorWireBytes + (Folded.ContributorCount * 8) + 40)
        + Relayed.Sum(u => (u.Delta.Length * 4) + 64);
}

/// <summary>
/// Root → its own node's tree role, then parent → child along the routes of that round: round <paramref name="Round"/>
/// of run <paramref name="Run"/> is cancelled (the app ended while it was in flight, e.g. an overlapped evaluation of
/// the round before reached the target). A tree node passes it on, stops relaying the round's model, drops whatever
/// its subtree still sends for it and never reports it; a worker drops its training and its queued compute.
/// </summary>
internal sealed record RoundCancel(string App, long Run, long Round) : ISizedMessage
{
    public int WireSize => 64 + App.Length;
}

/// <summary>
/// Root → down the whole tree, once, when run <paramref name="Run"/> of <paramref name="App"/> ends (target reached,
/// budget spent, cancelled, failed). Every node passes it on to its children toward all the app's workers and stops
/// its role for the app (aggregator and worker, with their model and data) unless a newer run already reached it.
/// </summary>
internal sealed record AppEnded(string App, long Run) : ISizedMessage
{
    public int WireSize => 48 + App.Length;

    /// <summary>Sends this notice on to <paramref name="node"/>'s children toward all the app's workers.</summary>
    public void PassOn(IFlTopology topology, Address node, ActorSystem system, IActorRef sender)
    {
        var all = Enumerable.Range(0, topology.Workers(App).Length).ToImmutableArray();
        foreach (var child in topology.RouteToChildren(App, node, all).Keys)
        {
            FlPaths.Host(system, child).Tell(this, sender);
        }
    }
}

/// <summary>
/// Host → a tree role: stop after the messages already queued for you (a round cancel first), passing
/// <paramref name="Notice"/> on down the tree if there is one.
/// </summary>
internal sealed record RetireRole(AppEnded? Notice) : Kernel.ILocalMessage;

/// <summary>
/// A tree role → its host: no RoundStart for <see cref="FlSettings.TreeRoleIdleTimeout"/> and no round open; stop me
/// unless a newer run has reached this node since.
/// </summary>
internal sealed record TreeRoleIdle(string App, long Run) : Kernel.ILocalMessage;

/// <summary>A role → its node's compute queue: drop the charges that would reply to <paramref name="Owner"/> (its round was cancelled).</summary>
internal sealed record CancelCharges(IActorRef Owner) : ILocalMessage;

/// <summary>Root → client, once per round.</summary>
public sealed record RoundReport(
    string App,
    long Round,
    double Accuracy,
    double Loss,
    double TrainLoss,
    int Participants,
    ImmutableArray<int> Invited,
    int StaleDropped,
    int DuplicatesDropped,
    long BytesUp,
    long BytesDown,
    TimeSpan VirtualTime,
    TimeSpan WallTime);

/// <summary>Root → client, once: how the app ended.</summary>
public sealed record AppResult(string App, AppOutcome Outcome, long Rounds, double FinalAccuracy, TimeSpan VirtualTime, string? Error);

/// <summary>
/// The root's in-memory checkpoint after each round: the global model, the round and the server optimizer's
/// state, for the replication work to ship to the root's successors.
/// </summary>
internal sealed record AppCheckpoint(string App, long Round, GlobalModel Model, ServerOptimizerState Optimizer);

/// <summary>Aggregator → its co-located worker: train <paramref name="Model"/> (assembled from the round's chunks) for this round.</summary>
internal sealed record TrainRound(RoundStart Start, GlobalModel Model, int Worker) : ILocalMessage;

/// <summary>Worker → co-located aggregator: its update, or null when declined or empty.</summary>
internal sealed record OwnUpdate(string App, long Round, ClientUpdate? Update) : ILocalMessage;

/// <summary>Worker → its trainer (dedicated dispatcher): train this model on this data.</summary>
internal sealed record TrainJob(AppSpec Spec, long Round, int Worker, GlobalModel Model, Dataset Data) : ILocalMessage;

/// <summary>Trainer → worker: the update (null when training diverged) and the FLOPs spent.</summary>
internal sealed record TrainDone(long Round, ClientUpdate? Update, double Flops) : ILocalMessage;

/// <summary>Coordinator → its trainer: evaluate this model on the test set.</summary>
internal sealed record EvaluateJob(AppSpec Spec, long Round, GlobalModel Model, Dataset Test) : ILocalMessage;

/// <summary>Trainer → coordinator: test accuracy and loss, and the FLOPs spent.</summary>
internal sealed record EvaluateDone(long Round, double Accuracy, double Loss, double Flops) : ILocalMessage;

/// <summary>Trainer → coordinator: the evaluation of round <paramref name="Round"/> threw; the app fails with <paramref name="Error"/>.</summary>
internal sealed record EvaluateFailed(long Round, string Error) : ILocalMessage;

/// <summary>Coordinator → its trainer: apply the rule to the round's folded partial or relayed updates.</summary>
internal sealed record AggregateJob(long Round, IAggregationRule Rule, ModelShape Shape, PartialAggregate? Folded, ImmutableArray<ClientUpdate> Relayed) : ILocalMessage;

/// <summary>Trainer → coordinator: the rule's result (null when nothing arrived) and the FLOPs spent.</summary>
internal sealed record AggregateDone(long Round, AggregationResult? Result, double Flops) : ILocalMessage;

/// <summary>Aggregator → its trainer: fold what this node collected for the round.</summary>
internal sealed record FoldJob(IFoldableRule Rule, ModelShape Shape, SubtreeRound Collected, AggregationLimits Limits) : ILocalMessage;

/// <summary>Trainer → aggregator: the folded partial (null when nothing arrived) and the FLOPs spent.</summary>
internal sealed record FoldDone(long Round, PartialAggregate? Folded, double Flops) : ILocalMessage;

/// <summary>Any role → its node's compute queue: deliver <paramref name="Reply"/> to <paramref name="ReplyTo"/> once the device has done <paramref name="Flops"/>.</summary>
internal sealed record Charge(double Flops, object Reply, IActorRef ReplyTo) : ILocalMessage;

/// <summary>
/// The overlay → a node's <c>/user/fl</c>: a new topology snapshot (the forest repaired or rebalanced a tree). Roles
/// switch to it for the next round; a round already under way keeps the children and parent it started with.
/// </summary>
internal sealed record FlTopologyChanged(IFlTopology Topology) : ILocalMessage;

/// <summary>Self-message: the round's deadline passed.</summary>
internal sealed record RoundDeadline(long Round) : ILocalMessage;

