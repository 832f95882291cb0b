using Totoro.Ml.Data;

namespace Totoro.Actors.Fl;

/// <summary>How an app's training set is split over its workers.</summary>
public enum PartitionKind
{
    Iid,
    Dirichlet,
    LabelShards,
    QuantitySkew,
}

/// <summary>
/// A partitioning scheme: every worker computes the same split from (scheme, training set, worker count, app seed)
/// and takes its own part, so no data moves and the Totoro run and the baseline train on identical partitions.
/// </summary>
public sealed record Partitioning(PartitionKind Kind, double Parameter)
{
    public static Partitioning Iid() => new(PartitionKind.Iid, 0);

    /// <summary>Label skew: each worker's class mix drawn from Dirichlet(α); smaller α, more skew.</summary>
    public static Partitioning Dirichlet(double alpha) => new(PartitionKind.Dirichlet, alpha);

    public static Partitioning LabelShards(int shardsPerWorker) => new(PartitionKind.LabelShards, shardsPerWorker);

    public static Partitioning QuantitySkew(double beta) => new(PartitionKind.QuantitySkew, beta);

    internal string? Validate() => Kind switch
    {
        PartitionKind.Iid => null,
        PartitionKind.Dirichlet or PartitionKind.QuantitySkew when !(Parameter > 0) || double.IsInfinity(Parameter) => $"{Kind} parameter must be positive and finite",
        PartitionKind.LabelShards when Parameter < 1 || Parameter != Math.Floor(Parameter) => "LabelShards needs a whole number ≥ 1 of shards per worker",
        _ => null,
    };

    internal int[][] Split(SampleStore train, int workers, int seed) => Kind switch
    {
        PartitionKind.Iid => Partitioner.Iid(train.Count, workers, seed),
        PartitionKind.Dirichlet => Partitioner.Dirichlet(train.Labels, train.Classes, workers, Parameter, seed),
        PartitionKind.LabelShards => Partitioner.LabelShards(train.Labels, workers, (int)Parameter, seed),
        _ => Partitioner.QuantitySkew(train.Count, workers, Parameter, seed),
    };
}
