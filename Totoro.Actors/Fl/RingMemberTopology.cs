using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// An app's tree computed from one snapshot of ring membership, until the forest (Scribe trees built by routing
/// toward the key) replaces it behind <see cref="IFlTopology"/>. The root is the member whose ring id is closest to
/// hash(app) — the node the ring routes the app's key to; the workers are all members, ordered by ring distance to
/// the key (ties by id), so the root is worker 0; the tree is the complete <see cref="FanOut"/>-ary tree over that
/// order, so nodes near the key sit near the root. Every node that sees the same members computes the same tree.
/// </summary>
internal sealed class RingMemberTopology : IFlTopology, IFlSuccessors
{
    private readonly ImmutableArray<RingMember> _members;

    public RingMemberTopology(IEnumerable<RingMember> members, int fanOut)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentOutOfRangeException.ThrowIfLessThan(fanOut, 1);
        _members = [.. members.DistinctBy(m => m.Id).OrderBy(m => m.Id)];
        if (_members.IsEmpty)
        {
            throw new ArgumentException("a topology needs at least one member", nameof(members));
        }

        FanOut = fanOut;
    }

    public string Kind => "ring-tree";

    public int FanOut { get; }

    /// <summary>The members of the snapshot, by ring id.</summary>
    public ImmutableArray<RingMember> Members => _members;

    /// <summary>The key an app lives at: the same hash the ring uses for node names (so <c>ring route APP</c> shows the root).</summary>
    public static NodeId KeyOf(string app) => NodeId.FromName(app);

    public Address Root(string app) => Order(app)[0].Node;

    public ImmutableArray<Address> Workers(string app) => [.. Order(app).Select(m => m.Node)];

    /// <summary>The members that would take over the app, nearest to its key first (the root is the first).</summary>
    public ImmutableArray<Address> Successors(string app, int count) => [.. Order(app).Take(count + 1).Skip(1).Select(m => m.Node)];

    public Address? Parent(string app, Address node)
    {
        var order = Order(app);
        var index = IndexOf(order, node);
        return index <= 0 ? null : order[(index - 1) / FanOut].Node;
    }

    public ImmutableDictionary<Address, ImmutableArray<int>> RouteToChildren(string app, Address node, ImmutableArray<int> workers)
    {
        var order = Order(app);
        var self = IndexOf(order, node);
        var routes = new Dictionary<Address, List<int>>();
        if (self < 0)
        {
            return ImmutableDictionary<Address, ImmutableArray<int>>.Empty;
        }

        foreach (var worker in workers.Where(w => w > self && w < order.Length))
        {
            // Parents have smaller indices; walk up until the step below self. Workers in other subtrees end above it.
            var current = worker;
            while (current > self && (current - 1) / FanOut != self)
            {
                current = (current - 1) / FanOut;
            }

            if (current > self)
            {
                var child = order[current].Node;
                if (!routes.TryGetValue(child, out var list))
                {
                    routes[child] = list = [];
                }

                list.Add(worker);
            }
        }

        return routes.ToImmutableDictionary(r => r.Key, r => r.Value.ToImmutableArray());
    }

    /// <summary>True when <paramref name="other"/> has the same members and fan-out (no need to publish a new snapshot).</summary>
    public bool SameAs(RingMemberTopology? other) =>
        other is not null && other.FanOut == FanOut && other._members.SequenceEqual(_members);

    private ImmutableArray<RingMember> Order(string app)
    {
        var key = KeyOf(app);
        return [.. _members.OrderBy(m => m.Id.DistanceTo(key)).ThenBy(m => m.Id)];
    }

    private static int IndexOf(ImmutableArray<RingMember> order, Address node)
    {
        for (var i = 0; i < order.Length; i++)
        {
            if (order[i].Node == node)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A ring member as the FL roles see it: its ring id and the kernel address of its system.</summary>
internal readonly record struct RingMember(NodeId Id, Address Node);
