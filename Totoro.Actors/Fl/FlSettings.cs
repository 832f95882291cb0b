using Totoro.Ml.Aggregation;

namespace Totoro.Actors.Fl;

/// <summary>When the root evaluates a round's new global model relative to the next round.</summary>
public enum EvaluationMode
{
    /// <summary>Round r+1 opens only after round r's model is evaluated (evaluation on the round's critical path).</summary>
    Inline,

    /// <summary>
    /// Round r+1 opens as soon as round r's aggregate is applied; round r's model is evaluated meanwhile on the same
    /// node's compute queue. When an evaluation reaches the target (or the budget ends) the round in flight is cancelled.
    /// </summary>
    Overlapped,
}

/// <summary>
/// Node-level settings of the FL roles. <see cref="TrainingDispatcher"/> names the dedicated dispatcher that
/// training and evaluation run on (null: the default dispatcher; register one with
/// <c>ActorSystemSettings.Dispatchers</c> so heartbeats never wait behind training; under a world every name maps
/// to the world). Each tree level reports within <see cref="LevelBudgetFactor"/> of its parent's budget, so a
/// subtree's result reaches the parent before the parent's own deadline. A worker that missed a round sits out
/// <see cref="CooldownRounds"/> rounds.
/// </summary>
public sealed record FlSettings(string? TrainingDispatcher, double LevelBudgetFactor, int CooldownRounds)
{
    public static FlSettings Default { get; } = new("totoro.fl.training", 0.9, 3);

    /// <summary>
    /// How many successors (next-closest nodes to the app's key, when the topology knows them: <see cref="IFlSuccessors"/>)
    /// get the root's checkpoint after every round; one of them resumes the app when the root fails. 0: no fail-over.
    /// </summary>
    public int Replicas { get; init; } = 2;

    /// <summary>A submission forwarded this many times toward its root without arriving is refused (topologies disagree).</summary>
    public int MaxSubmitHops { get; init; } = 8;

    /// <summary>
    /// Bytes of model per <see cref="ModelChunk"/>: the round's model travels down the tree in chunks of this size and
    /// every tree node passes each chunk on as it arrives (cut-through). A size at least the model's sends it whole
    /// (store-and-forward at every level). In [<see cref="MinModelChunkBytes"/>, <see cref="MaxModelChunkBytes"/>].
    /// </summary>
    public int ModelChunkBytes { get; init; } = 64 * 1024;

    /// <summary>Whether the next round waits for this round's evaluation (<c>totoro.fl.evaluation</c>: overlapped | inline).</summary>
    /// <remarks>
    /// Inline by default: overlapping pays off when the root's compute is the round's tail (one app: −12 % time-to-target
    /// in <c>sim fl</c>), but every app that ends leaves a cancelled round's model on links other apps share, and at
    /// 20 apps that costs more than it saves (docs/benchmarks.md, "sim fl: overlapped evaluation").
    /// </remarks>
    public EvaluationMode Evaluation { get; init; } = EvaluationMode.Inline;

    /// <summary>
    /// How tree nodes fold a foldable rule's sums (<c>totoro.fl.aggregation.fold</c> = fixed-point | float,
    /// <c>fraction-bits</c>): integer fixed point in this format, exact in any tree shape and order (the default), or
    /// null for the float fold. Partials of another format are refused, so every node of an app must agree.
    /// </summary>
    public FixedPointFormat? Fold { get; init; } = FixedPointFormat.Default;

    /// <summary>
    /// How many ended apps a root remembers (outcome, rounds, final accuracy, last round) for status queries from any
    /// node (<c>totoro.fl.ended-app-history</c>); the oldest is forgotten first. 0: none.
    /// </summary>
    public int EndedAppHistory { get; init; } = 64;

    /// <summary>
    /// A tree role (an app's aggregator on a node, with its worker) that got no RoundStart for this long, and has no
    /// round open, is stopped and its model and data freed (<c>totoro.fl.tree-role-idle-timeout</c>). Roles of an app
    /// that ended are stopped at once by the root's end notice; this catches the rest (a root that died, a node the
    /// tree moved away from). The next RoundStart starts a new role.
    /// </summary>
    public TimeSpan TreeRoleIdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The aggregation limits a tree node folds with.</summary>
    internal AggregationLimits FoldLimits => AggregationLimits.Default with { FixedPoint = Fold };

    /// <summary>The HOCON spelling of <paramref name="text"/> (<c>overlapped</c> | <c>inline</c>); null when it is neither.</summary>
    public static EvaluationMode? ParseEvaluation(string text) => text.Trim().ToLowerInvariant() switch
    {
        "overlapped" => EvaluationMode.Overlapped,
        "inline" => EvaluationMode.Inline,
        _ => null,
    };

    public const int MinModelChunkBytes = 64;

    public const int MaxModelChunkBytes = 64 << 20;

    /// <summary>Floats (float32 parameters) per chunk.</summary>
    public int ModelChunkFloats => ModelChunkBytes / sizeof(float);

    public FlSettings Validated()
    {
        if (ModelChunkBytes is < MinModelChunkBytes or > MaxModelChunkBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ModelChunkBytes), ModelChunkBytes, $"totoro.fl.model-chunk-size must be in [{MinModelChunkBytes}, {MaxModelChunkBytes}] bytes");
        }

        if (LevelBudgetFactor is <= 0 or > 1 || double.IsNaN(LevelBudgetFactor))
        {
            throw new ArgumentOutOfRangeException(nameof(LevelBudgetFactor), LevelBudgetFactor, "totoro.fl.level-budget-factor must be in (0, 1]");
        }

        if (!Enum.IsDefined(Evaluation))
        {
            throw new ArgumentOutOfRangeException(nameof(Evaluation), Evaluation, "totoro.fl.evaluation must be overlapped or inline");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(CooldownRounds, "totoro.fl.cooldown-rounds");
        ArgumentOutOfRangeException.ThrowIfNegative(Replicas, "totoro.fl.replicas");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSubmitHops, 1, "totoro.fl.max-submit-hops");
        ArgumentOutOfRangeException.ThrowIfNegative(EndedAppHistory, "totoro.fl.ended-app-history");
        if (TreeRoleIdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TreeRoleIdleTimeout), TreeRoleIdleTimeout, "totoro.fl.tree-role-idle-timeout must be positive");
        }

        return this;
    }
}

/// <summary>
/// What one node's FL host needs: the topology snapshot, the data it serves, settings, and — in simulation — its
/// device speed in FLOP/s, which turns training, folding and evaluation into virtual time (null: real time, no charge).
/// </summary>
public sealed record FlNodeOptions(IFlTopology Topology, FlDataCatalog Catalog, FlSettings Settings, double? DeviceFlopsPerSecond)
{
    /// <summary>Experiments only: where trainers reuse results computed once for identical inputs (see <c>TrainingResultCache</c>).</summary>
    internal Totoro.Actors.Sim.ITrainingResultCache? Cache { get; init; }
}
