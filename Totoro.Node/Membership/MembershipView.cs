using System.Collections.Immutable;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Membership;

public enum MemberStatus
{
    /// <summary>Contacted (a seed, or learned from a peer) but it has not answered yet.</summary>
    Joining,

    /// <summary>Answered a hello and its node is reachable.</summary>
    Up,

    /// <summary>Was up; its node went down (connection lost or the process stopped).</summary>
    Down,
}

/// <summary>One node as this node sees it.</summary>
public sealed record Member(NodeAddress Address, string Name, string Zone, MemberStatus Status, bool Seed, DateTimeOffset Since);

/// <summary>The seeds and peers this node knows, and which of them answered; every change returns a new view.</summary>
public sealed record MembershipView(NodeAddress Self, ImmutableSortedDictionary<NodeAddress, Member> Members)
{
    public static MembershipView Create(NodeAddress self, IEnumerable<NodeAddress> seeds, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        var members = ImmutableSortedDictionary<NodeAddress, Member>.Empty;
        foreach (var seed in seeds.Where(s => s != self))
        {
            members = members.SetItem(seed, new Member(seed, "", "", MemberStatus.Joining, Seed: true, now));
        }
        return new MembershipView(self, members);
    }

    public IEnumerable<Member> Up => Members.Values.Where(m => m.Status == MemberStatus.Up);

    /// <summary>Nodes to (re)send hello to: every known node that is not up.</summary>
    public IEnumerable<NodeAddress> ToContact => Members.Values.Where(m => m.Status != MemberStatus.Up).Select(m => m.Address);

    /// <summary>The node answered (or said hello itself): it is up, with its name and zone.</summary>
    public MembershipView Answered(NodeAddress node, string name, string zone, DateTimeOffset now)
    {
        if (node == Self)
        {
            return this;
        }
        var seed = Members.TryGetValue(node, out var known) && known.Seed;
        var since = known is { Status: MemberStatus.Up } ? known.Since : now;
        return this with { Members = Members.SetItem(node, new Member(node, name, zone, MemberStatus.Up, seed, since)) };
    }

    /// <summary>The node went down; unknown nodes are ignored.</summary>
    public MembershipView Lost(NodeAddress node, DateTimeOffset now) =>
        Members.TryGetValue(node, out var known) && known.Status != MemberStatus.Down
            ? this with { Members = Members.SetItem(node, known with { Status = MemberStatus.Down, Since = now }) }
            : this;

    /// <summary>Adds nodes a peer reported; returns the view and the nodes that are new (to say hello to).</summary>
    public (MembershipView View, IReadOnlyList<NodeAddress> Added) Learned(IEnumerable<NodeAddress> nodes, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var members = Members;
        var added = new List<NodeAddress>();
        foreach (var node in nodes.Where(n => n != Self && !Members.ContainsKey(n)).Distinct())
        {
            members = members.SetItem(node, new Member(node, "", "", MemberStatus.Joining, Seed: false, now));
            added.Add(node);
        }
        return (this with { Members = members }, added);
    }
}
