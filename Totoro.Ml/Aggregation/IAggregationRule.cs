namespace Totoro.Ml.Aggregation;

/// <summary>
/// How a round's updates become one delta. The forest asks <see cref="IsFoldable"/>: a foldable rule
/// (also an <see cref="IFoldableRule"/>) lets interior nodes fold updates into one
/// <see cref="PartialAggregate"/>; any other rule needs every update at the root, unfolded.
/// </summary>
public interface IAggregationRule
{
    string Name { get; }

    bool IsFoldable { get; }

    /// <summary>Aggregates a round's raw updates in one place (what the root does for non-foldable rules).</summary>
    AggregationResult Aggregate(ModelShape shape, IReadOnlyList<ClientUpdate> updates, long round);
}

/// <summary>A rule whose aggregate is a sum: leaves and interior nodes fold, the root finishes.</summary>
public interface IFoldableRule : IAggregationRule
{
    /// <summary>Adds one update at the node that received it, after the rule's per-update transform (e.g. clipping).</summary>
    UpdateRejected? Fold(UpdateAccumulator accumulator, ClientUpdate update);

    /// <summary>The batched form of <see cref="Fold"/>: one streaming pass over all updates.</summary>
    IReadOnlyList<UpdateRejected> FoldBatch(UpdateAccumulator accumulator, IReadOnlyList<ClientUpdate> updates);

    /// <summary>Turns the root's fold of the whole tree into the round's delta (e.g. adding DP noise).</summary>
    AggregationResult Finish(PartialAggregate total, long round);
}
