using Totoro.Actors.Ring;
using FsProperty = FsCheck.NUnit.PropertyAttribute;

namespace Totoro.Tests.Actors.Ring;

public class RouteDeciderTests
{
    /// <summary>A planner that picks any valid option: the no-loop guarantee must not depend on the default choice.</summary>
    internal sealed class RandomPlanner(Random random) : INextHopPlanner
    {
        public PeerEntry Choose(NodeId key, RouteDecision decision)
        {
            var options = decision.Candidates.AddRange(decision.Alternatives);
            return options[random.Next(options.Length)];
        }
    }

    private sealed record Knowledge(NodeId Self, LeafSet Leaves, RoutingTable Table, NeighborhoodSet Neighbors)
    {
        public RouteDecision Decide(NodeId key, bool converging = false) => RouteDecider.Decide(Self, Leaves, Table, Neighbors, key, converging);

        public IEnumerable<PeerEntry> All() => Leaves.Members().Concat(Table.Entries()).Concat(Neighbors.Entries.ToArray());
    }

    private static NodeId RandomId(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new NodeId(System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes));
    }

    /// <summary>An id near <paramref name="anchor"/> in prefix terms, so deep rows and leaf ranges get exercised.</summary>
    private static NodeId Near(NodeId anchor, Random random) => new(anchor.Value ^ (RandomId(random).Value >> random.Next(0, 128)));

    /// <summary>Random, deliberately inconsistent partial knowledge: each peer lands in a random subset of the structures.</summary>
    private static Knowledge RandomKnowledge(NodeId self, IReadOnlyList<PeerEntry> peers, Random random, int candidatesPerSlot = 3)
    {
        var leaves = LeafSet.Empty(self, 16);
        var table = RoutingTable.Empty(self, IdGeometry.Default, candidatesPerSlot);
        var neighbors = NeighborhoodSet.Empty(8);
        foreach (var peer in peers)
        {
            if (random.Next(3) == 0)
            {
                leaves = leaves.Insert(peer);
            }

            if (random.Next(3) != 0)
            {
                table = table.Insert(peer);
            }

            if (random.Next(4) == 0)
            {
                neighbors = neighbors.Insert(peer);
            }
        }

        return new Knowledge(self, leaves, table, neighbors);
    }

    private static PeerEntry RandomPeer(NodeId id, int address, Random random) =>
        new(id, new NodeAddress(address), random.Next(4) == 0 ? PeerEntry.UnknownRtt : (uint)random.Next(1, 200_000));

    [FsProperty(MaxTest = 300)]
    public bool Every_option_extends_the_prefix_or_is_strictly_closer_and_converging_options_are_all_closer(int seed)
    {
        var random = new Random(seed);
        var self = RandomId(random);
        var peers = Enumerable.Range(0, random.Next(0, 150))
            .Select(i => RandomPeer(random.Next(2) == 0 ? Near(self, random) : RandomId(random), i, random))
            .ToList();
        var knowledge = RandomKnowledge(self, peers, random);
        var key = random.Next(3) switch
        {
            0 => Near(self, random),
            1 when peers.Count > 0 => peers[random.Next(peers.Count)].Id,
            _ => RandomId(random),
        };

        var shared = IdGeometry.Default.SharedPrefixLength(self, key);
        var valid = true;
        foreach (var converging in new[] { false, true })
        {
            var decision = knowledge.Decide(key, converging);
            var options = decision.Candidates.AddRange(decision.Alternatives);
            var progress = options.All(option => option.Id.IsCloserTo(key, self) ||
                                                 (!converging && IdGeometry.Default.SharedPrefixLength(option.Id, key) > shared));
            var distinct = options.Select(o => o.Id).Distinct().Count() == options.Length;
            var tableExtends = decision.Rule != RouteRule.RoutingTable ||
                               decision.Candidates.All(c => IdGeometry.Default.SharedPrefixLength(c.Id, key) > shared);
            var deliverOnlyWhenNothingCloser = decision.Rule != RouteRule.DeliverHere || knowledge.Leaves.Covers(key) ||
                                               !knowledge.All().Any(peer => peer.Id.IsCloserTo(key, self));
            valid &= progress && distinct && tableExtends && deliverOnlyWhenNothingCloser;
        }

        return valid;
    }

    /// <summary>
    /// Over arbitrary, inconsistent states and any planner: while prefix routing, (shared prefix, −distance) strictly
    /// increases; once converging (set at most once), the distance strictly decreases. So no node is visited twice
    /// in one phase, and every route ends.
    /// </summary>
    [FsProperty(MaxTest = 300)]
    public bool Routes_over_arbitrary_inconsistent_states_never_revisit_a_node_within_a_phase(int seed)
    {
        var random = new Random(seed);
        var count = random.Next(2, 60);
        var anchor = RandomId(random);
        var ids = Enumerable.Range(0, count).Select(_ => random.Next(2) == 0 ? Near(anchor, random) : RandomId(random)).Distinct().ToArray();
        var world = ids.Select(self => RandomKnowledge(
                self,
                [.. ids.Select((id, index) => RandomPeer(id, index, random)).Where(p => p.Id != self && random.Next(2) == 0)],
                random,
                candidatesPerSlot: 1 + random.Next(3)))
            .ToArray();
        var planner = new RandomPlanner(random);
        var key = random.Next(2) == 0 ? Near(anchor, random) : RandomId(random);
        var at = random.Next(ids.Length);
        var visited = new HashSet<int> { at };
        var converging = false;
        var geometry = IdGeometry.Default;
        while (true)
        {
            var decision = world[at].Decide(key, converging);
            if (decision.IsDeliverHere)
            {
                return true;
            }

            var next = planner.Choose(key, decision).Address.Value;
            var nowConverging = RouteDecider.Next(converging, decision, geometry, ids[at], ids[next], key);
            var (prefixBefore, prefixAfter) = (geometry.SharedPrefixLength(ids[at], key), geometry.SharedPrefixLength(ids[next], key));
            var progress = nowConverging
                ? ids[next].IsCloserTo(key, ids[at])
                : prefixAfter > prefixBefore || (prefixAfter == prefixBefore && ids[next].IsCloserTo(key, ids[at]));
            if (!progress)
            {
                return false;
            }

            if (nowConverging && !converging)
            {
                visited.Clear();
            }

            converging = nowConverging;
            if (!visited.Add(next))
            {
                return false;
            }

            at = next;
        }
    }

    [Test]
    public void A_node_just_across_a_digit_boundary_takes_the_table_entry_that_extends_the_prefix()
    {
        // Self 4ff… is numerically closer to the key 503… than the only node of region 5 it knows (5a…), so a rule
        // that insists on numeric progress would walk along region 4 first; Pastry's table hop goes to 5a… at once.
        var self = NodeId.Parse("4ff00000000000000000000000000000");
        var entry = new PeerEntry(NodeId.Parse("5a000000000000000000000000000000"), new NodeAddress(1), 100);
        var sideways = new PeerEntry(NodeId.Parse("4ffff000000000000000000000000000"), new NodeAddress(2), 100);
        var table = RoutingTable.Empty(self, IdGeometry.Default, 2).Insert(entry).Insert(sideways);
        var leaves = LeafSet.Empty(self, 2)
            .Insert(new PeerEntry(NodeId.Parse("4ff00000000000000000000000000001"), new NodeAddress(3), 100))
            .Insert(new PeerEntry(NodeId.Parse("4fefffffffffffffffffffffffffffff"), new NodeAddress(4), 100));
        var key = NodeId.Parse("50300000000000000000000000000000");

        var prefix = RouteDecider.Decide(self, leaves, table, NeighborhoodSet.Empty(4), key);
        Assert.That(prefix.Rule, Is.EqualTo(RouteRule.RoutingTable));
        Assert.That(prefix.Candidates.Single(), Is.EqualTo(entry));
        Assert.That(RouteDecider.Next(false, prefix, IdGeometry.Default, self, entry.Id, key), Is.False, "a table hop keeps prefix routing");

        var converging = RouteDecider.Decide(self, leaves, table, NeighborhoodSet.Empty(4), key, converging: true);
        Assert.That(converging.Rule, Is.EqualTo(RouteRule.RareCase), "a converging route only takes numerically closer nodes");
        Assert.That(converging.Candidates.Single(), Is.EqualTo(sideways));
    }

    [Test]
    public void Key_in_leaf_range_goes_to_the_numerically_closest_leaf()
    {
        var self = NodeId.Parse("80000000000000000000000000000000");
        var leaves = LeafSet.Empty(self, 4)
            .Insert(new PeerEntry(NodeId.Parse("80000000000000000000000000000010"), new NodeAddress(1), 500))
            .Insert(new PeerEntry(NodeId.Parse("80000000000000000000000000000020"), new NodeAddress(2), 5));
        var decision = RouteDecider.Decide(self, leaves, RoutingTable.Empty(self, IdGeometry.Default, 3), NeighborhoodSet.Empty(4),
            NodeId.Parse("80000000000000000000000000000011"));
        Assert.That(decision.Rule, Is.EqualTo(RouteRule.LeafSet));
        Assert.That(LowestRttPlanner.Instance.Choose(self, decision).Address, Is.EqualTo(new NodeAddress(1)));
        Assert.That(decision.Alternatives.Select(a => a.Address), Is.EqualTo(new[] { new NodeAddress(2) }));
    }

    [Test]
    public void Table_rule_offers_slot_candidates_and_the_default_planner_takes_the_lowest_rtt()
    {
        var self = NodeId.Parse("80000000000000000000000000000000");
        var table = RoutingTable.Empty(self, IdGeometry.Default, 3)
            .Insert(new PeerEntry(NodeId.Parse("31000000000000000000000000000000"), new NodeAddress(1), 900))
            .Insert(new PeerEntry(NodeId.Parse("32000000000000000000000000000000"), new NodeAddress(2), 100))
            .Insert(new PeerEntry(NodeId.Parse("33000000000000000000000000000000"), new NodeAddress(3), 300));
        var leaves = LeafSet.Empty(self, 4)
            .Insert(new PeerEntry(NodeId.Parse("80000000000000000000000000000010"), new NodeAddress(4), 1))
            .Insert(new PeerEntry(NodeId.Parse("7f000000000000000000000000000000"), new NodeAddress(5), 1))
            .Insert(new PeerEntry(NodeId.Parse("90000000000000000000000000000000"), new NodeAddress(6), 1))
            .Insert(new PeerEntry(NodeId.Parse("70000000000000000000000000000000"), new NodeAddress(7), 1));
        var key = NodeId.Parse("3abc0000000000000000000000000000");
        var decision = RouteDecider.Decide(self, leaves, table, NeighborhoodSet.Empty(4), key);
        Assert.That(decision.Rule, Is.EqualTo(RouteRule.RoutingTable));
        Assert.That(decision.Candidates.Select(c => c.Address.Value), Is.EqualTo(new[] { 2, 3, 1 }));
        Assert.That(LowestRttPlanner.Instance.Choose(key, decision).Address.Value, Is.EqualTo(2));
    }

    [Test]
    public void Empty_slot_falls_back_to_a_closer_known_node()
    {
        var self = NodeId.Parse("80000000000000000000000000000000");
        var leaves = LeafSet.Empty(self, 2)
            .Insert(new PeerEntry(NodeId.Parse("80000000000000000000000000000010"), new NodeAddress(1), 1))
            .Insert(new PeerEntry(NodeId.Parse("7f000000000000000000000000000000"), new NodeAddress(2), 1));
        var key = NodeId.Parse("40000000000000000000000000000000");
        var decision = RouteDecider.Decide(self, leaves, RoutingTable.Empty(self, IdGeometry.Default, 3), NeighborhoodSet.Empty(4), key);
        Assert.That(decision.Rule, Is.EqualTo(RouteRule.RareCase));
        Assert.That(decision.Candidates.Single().Address.Value, Is.EqualTo(2));
    }
    /// <summary>Self 80…, full leaf set reaching 2^121 either way; slot R[0][4] holds 40… (one digit of the key 4ff…).</summary>
    private static (NodeId Self, LeafSet Leaves, RoutingTable Table, PeerEntry Slot) FinalApproach(string sideways)
    {
        var self = NodeId.Parse("80000000000000000000000000000000");
        var leaves = LeafSet.Empty(self, 4)
            .Insert(new PeerEntry(NodeId.Parse("81000000000000000000000000000000"), new NodeAddress(1), 1))
            .Insert(new PeerEntry(NodeId.Parse("82000000000000000000000000000000"), new NodeAddress(2), 1))
            .Insert(new PeerEntry(NodeId.Parse("7f000000000000000000000000000000"), new NodeAddress(3), 1))
            .Insert(new PeerEntry(NodeId.Parse("7e000000000000000000000000000000"), new NodeAddress(4), 1));
        var slot = new PeerEntry(NodeId.Parse("40000000000000000000000000000000"), new NodeAddress(5), 1);
        var table = RoutingTable.Empty(self, IdGeometry.Default, 1)
            .Insert(slot)
            .Insert(new PeerEntry(NodeId.Parse(sideways), new NodeAddress(6), 1));
        return (self, leaves, table, slot);
    }

    [Test]
    public void A_known_node_within_leaf_set_reach_of_the_key_is_taken_before_a_farther_slot_entry()
    {
        // 50… shares no digit with the key 4ff… (like self) but is 2^116 from it, well inside the 2^121 leaf-set reach;
        // the slot entry 40… shares a digit but is ~2^124 away and would need another table hop.
        var (self, leaves, table, _) = FinalApproach("50000000000000000000000000000000");
        var key = NodeId.Parse("4ff00000000000000000000000000000");

        var decision = RouteDecider.Decide(self, leaves, table, NeighborhoodSet.Empty(4), key);

        Assert.That(decision.Rule, Is.EqualTo(RouteRule.NearKey));
        Assert.That(decision.Candidates.Single().Address.Value, Is.EqualTo(6));
        Assert.That(RouteDecider.Next(false, decision, IdGeometry.Default, self, decision.Candidates[0].Id, key), Is.False,
            "a closer node with the same prefix keeps prefix routing: (prefix, −distance) still increases");
        Assert.That(decision.Alternatives.Select(a => a.Id), Does.Not.Contain(decision.Candidates[0].Id));
    }

    [Test]
    public void A_closer_node_outside_leaf_set_reach_leaves_the_table_hop_alone()
    {
        // 54… is closer to the key than self but ~2^122 from it, beyond the 2^121 reach: Pastry's table hop stands.
        var (self, leaves, table, slot) = FinalApproach("54000000000000000000000000000000");
        var key = NodeId.Parse("4ff00000000000000000000000000000");

        var decision = RouteDecider.Decide(self, leaves, table, NeighborhoodSet.Empty(4), key);

        Assert.That(decision.Rule, Is.EqualTo(RouteRule.RoutingTable));
        Assert.That(decision.Candidates.Single(), Is.EqualTo(slot));
    }

    [Test]
    public void The_final_approach_needs_a_full_leaf_set()
    {
        var self = NodeId.Parse("80000000000000000000000000000000");
        var leaves = LeafSet.Empty(self, 4).Insert(new PeerEntry(NodeId.Parse("f0000000000000000000000000000000"), new NodeAddress(1), 1));
        var table = RoutingTable.Empty(self, IdGeometry.Default, 1)
            .Insert(new PeerEntry(NodeId.Parse("40000000000000000000000000000000"), new NodeAddress(5), 1))
            .Insert(new PeerEntry(NodeId.Parse("50000000000000000000000000000000"), new NodeAddress(6), 1));

        var decision = RouteDecider.Decide(self, leaves, table, NeighborhoodSet.Empty(4), NodeId.Parse("4ff00000000000000000000000000000"));

        Assert.That(decision.Rule, Is.EqualTo(RouteRule.RoutingTable), "without a full leaf set there is no reach to compare with");
    }
}
