using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

/// <summary>In-process scenarios: hundreds of ring nodes built through the join protocol on virtual time.</summary>
public class RingScenarioTests
{
    private const int Nodes = 300;
    // RING_SEED overrides the seed to explore other runs; failures print the seed in use.
    private static readonly int Seed = int.Parse(Environment.GetEnvironmentVariable("RING_SEED") ?? "4242", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly TimeSpan JoinSpacing = TimeSpan.FromMilliseconds(100);

    private static RingWorld BuildRing(int nodes = Nodes, int? seed = null)
    {
        var world = RingWorld.Create(nodes, seed ?? Seed);
        world.BuildByJoining(nodes, JoinSpacing);
        world.Pump.RunFor(TimeSpan.FromSeconds(10));
        return world;
    }

    private static void AssertEveryKeyReachesTheClosestLiveNode(RingWorld world, int keys, out double meanHops, out int maxHops)
    {
        var sent = world.RouteRandomKeys(keys, TimeSpan.FromSeconds(10));
        var misrouted = sent.Where(s => !world.Deliveries.TryGetValue(s.Lookup, out var d) || d.Node != s.Expected).ToList();
        Assert.That(misrouted, Is.Empty, $"seed {Seed}: {misrouted.Count} of {keys} lookups missed the closest live node");
        var hops = sent.Select(s => world.Deliveries[s.Lookup].Hops).ToList();
        meanHops = hops.Average();
        maxHops = hops.Max();
        foreach (var (lookup, key, _) in sent)
        {
            var path = world.Paths.GetValueOrDefault(lookup) ?? [];
            var ids = path.Select(node => world.Ids[node]).Append(world.Ids[world.Deliveries[lookup].Node]).ToList();
            // Prefix routing first ((shared prefix, −distance) strictly increases), then converging (distance strictly decreases).
            var geometry = IdGeometry.Default;
            var converging = false;
            for (var hop = 1; hop < ids.Count; hop++)
            {
                var (before, after) = (geometry.SharedPrefixLength(ids[hop - 1], key), geometry.SharedPrefixLength(ids[hop], key));
                var closer = ids[hop].IsCloserTo(key, ids[hop - 1]);
                converging |= !(after > before || (after == before && closer));
                Assert.That(converging ? closer : after > before || closer, Is.True, $"lookup {lookup}: hop {hop} made no progress toward {key}");
            }
        }
    }

    [Test]
    public void Ring_built_by_joining_routes_every_key_to_the_numerically_closest_node_in_about_log16_N_hops()
    {
        var world = BuildRing();
        Assert.That(world.LiveNodes.Count(), Is.EqualTo(Nodes), "every node finished joining");
        Assert.That(world.NodesWithWrongLeafSets(), Is.Empty, "leaf sets are exactly the L/2 nearest on each side");

        AssertEveryKeyReachesTheClosestLiveNode(world, 2000, out var meanHops, out var maxHops);
        var log16 = Math.Log(Nodes, 16);
        TestContext.Out.WriteLine($"N={Nodes}: mean hops {meanHops:F2} (log16 N = {log16:F2}), max {maxHops}, messages {world.Pump.MessagesSent}");
        Assert.That(meanHops, Is.InRange(log16 - 0.75, log16 + 0.5));
        Assert.That(maxHops, Is.LessThanOrEqualTo((int)Math.Ceiling(log16) + 2));
    }

    [Test]
    public void Nodes_measure_rtt_and_fill_slots_by_proximity()
    {
        var world = BuildRing();
        var node = world.LiveNodes.First();
        var state = world[node]!;
        var measured = state.Table.Entries().Count(e => e.HasRtt);
        // Announces no longer round-trip (only leaves answer), so RTTs come from leaves, heartbeats, announce replies
        // and row repair; unmeasured candidates rank after measured ones (docs/architecture.md, "Join").
        Assert.That(measured, Is.GreaterThan(state.Table.Count / 2), "most routing-table entries carry a measured RTT");
        Assert.That(state.Neighbors.Entries.Length, Is.EqualTo(state.Settings.NeighborhoodSize));
        for (var row = 0; row < state.Table.Depth; row++)
        {
            for (var column = 0; column < state.Settings.Geometry.Columns; column++)
            {
                var slot = state.Table.Slot(row, column).ToArray();
                Assert.That(slot.Select(e => e.RttMicros), Is.Ordered, $"slot ({row},{column}) ordered by RTT");
            }
        }
    }

    [Test]
    public void Graceful_leaves_and_new_joins_keep_routing_exact()
    {
        var world = BuildRing();
        var random = new Random(Seed);
        var leavers = world.LiveNodes.OrderBy(_ => random.Next()).Take(20).ToList();
        foreach (var leaver in leavers)
        {
            world.Leave(leaver);
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(15));
        Assert.That(world.NodesWithWrongLeafSets(), Is.Empty, "leave notices, and the detector for nodes a leaver did not know, repair the leaf sets");
        AssertEveryKeyReachesTheClosestLiveNode(world, 500, out _, out _);

        foreach (var leaver in leavers.Take(10))
        {
            world.Join(leaver, world.LiveNodes.First());
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(15));
        Assert.That(world.LiveNodes.Count(), Is.EqualTo(Nodes - 10), "rejoined nodes are ready");
        Assert.That(world.NodesWithWrongLeafSets(), Is.Empty);
        AssertEveryKeyReachesTheClosestLiveNode(world, 500, out _, out _);
    }

    [Test]
    public void Crash_of_half_a_leaf_set_minus_one_adjacent_nodes_is_repaired_and_routing_stays_exact()
    {
        var world = BuildRing();
        var sorted = world.LiveNodes.OrderBy(n => world.Ids[n]).ToList();
        var crashCount = (world.Settings.LeafSetSize / 2) - 1;
        var crashed = sorted.Skip(100).Take(crashCount).ToList();
        foreach (var node in crashed)
        {
            world.Crash(node);
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(20));
        var failures = world.Pump.Observed.Count(o => o.Effect is PeerFailed);
        TestContext.Out.WriteLine($"crashed {crashCount} adjacent nodes; {failures} failure declarations");
        Assert.That(failures, Is.GreaterThanOrEqualTo(crashCount * 2), "both neighbours' sides detect the crashes");
        Assert.That(world.NodesWithWrongLeafSets(), Is.Empty, "leaf sets repaired");

        int StaleTableEntries() => world.LiveNodes.Sum(n => world[n]!.Table.Entries().Count(e => crashed.Contains(e.Address.Value)));
        var staleBefore = StaleTableEntries();

        // Keys owned by the crashed range, routed from many sources: some still hold crashed nodes in their tables.
        var sent = new List<(int Lookup, NodeId Key, int Expected)>();
        foreach (var node in crashed)
        {
            foreach (var source in world.LiveNodes.Take(20))
            {
                var key = new NodeId(world.Ids[node].Value + 1);
                sent.Add((world.Route(source, key), key, world.ClosestLive(key)));
            }
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(15));
        Assert.That(sent.Where(s => !world.Deliveries.TryGetValue(s.Lookup, out var d) || d.Node != s.Expected), Is.Empty);
        AssertEveryKeyReachesTheClosestLiveNode(world, 500, out _, out _);
        var staleAfter = StaleTableEntries();
        TestContext.Out.WriteLine($"routing-table entries naming crashed nodes: {staleBefore} before traffic, {staleAfter} after");
        Assert.That(staleBefore, Is.GreaterThan(0), "distant nodes are not told about crashes");
        Assert.That(staleAfter, Is.LessThan(staleBefore), "dead routing-table entries are dropped lazily as routes hit them");
    }
}
