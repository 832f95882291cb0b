namespace Totoro.Ml.Aggregation;

/// <summary>Why an update or a partial aggregate was refused.</summary>
public enum RejectionReason
{
    ArchitectureMismatch,
    ElementCountMismatch,
    NonFiniteValue,
    WeightOutOfRange,
    NonFiniteMetric,
    DuplicateContributor,

    /// <summary>A coordinate outside the fixed-point range, or a fixed-point partial that is impossible or of another format.</summary>
    ValueOutOfRange,
}

/// <summary>
/// A refused input: the aggregate it was offered to is unchanged. <see cref="ContributorId"/> is null
/// when the refused input was a partial aggregate (many contributors).
/// </summary>
public sealed record UpdateRejected(ulong? ContributorId, RejectionReason Reason, string Detail);
