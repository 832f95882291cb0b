using Microsoft.Extensions.Logging;

namespace Totoro.Node.Membership;

/// <summary>Log messages of the membership actor; event ids 6050-6059.</summary>
internal static partial class MembershipLog
{
    [LoggerMessage(6050, LogLevel.Warning, "Ignored a hello from cluster {Foreign} at {Peer}; this node belongs to cluster {Own}")]
    public static partial void ForeignCluster(ILogger logger, string foreign, string peer, string own);
}
