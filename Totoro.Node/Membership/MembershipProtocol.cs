using Totoro.Kernel;

namespace Totoro.Node.Membership;

/// <summary>
/// A node introduces itself to a seed or peer (<c>node.hello.v1</c>); <see cref="Known"/> are peers it sees up.
/// A node answers and counts only hellos of its own cluster.
/// </summary>
internal sealed record Hello(string Cluster, string Name, string Zone, IReadOnlyList<string> Known);

/// <summary>The answer to <see cref="Hello"/> (<c>node.hello-ack.v1</c>).</summary>
internal sealed record HelloAck(string Cluster, string Name, string Zone, IReadOnlyList<string> Known);

/// <summary>Asks the membership actor for its current <see cref="MembershipView"/>.</summary>
public sealed record GetMembers : ILocalMessage
{
    public static readonly GetMembers Instance = new();
}

/// <summary>Timer tick: hello again to every known node not seen up.</summary>
internal sealed record RetryHellos : ILocalMessage
{
    public static readonly RetryHellos Instance = new();
}
