using System.Collections.Immutable;
using Totoro.Actors.Ring;
using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Ring;

public class MultiRingTests
{
    private const int Zones = 4;
    private const int Nodes = 240;
    private const int GatewaysPerZone = 2;
    private static readonly int Seed = int.Parse(Environment.GetEnvironmentVariable("RING_SEED") ?? "77", System.Globalization.CultureInfo.InvariantCulture);

    [Test]
    public void Zone_keys_sit_in_distinct_blocks_and_gateway_global_ids_stay_in_their_zone_block()
    {
        Assert.That(ZoneKeys.ArePrefixesDistinct(Enumerable.Range(0, 64)), Is.True);
        var id = NodeId.FromName("node");
        var global = ZoneKeys.GlobalIdFor(3, id);
        var geometry = new IdGeometry(4);
        Assert.That(geometry.SharedPrefixLength(global, ZoneKeys.ZoneKey(3)), Is.GreaterThanOrEqualTo(ZoneKeys.ZonePrefixBits / 4));
        Assert.That(global.Value & ((UInt128.One << 112) - 1), Is.EqualTo(id.Value & ((UInt128.One << 112) - 1)));
        var members = Enumerable.Range(0, 50).Select(i => NodeId.FromName("m" + i)).ToList();
        var gateways = ZoneKeys.SelectGateways(members, 3, 2);
        var key = ZoneKeys.ZoneKey(3);
        Assert.That(members.Except(gateways).All(m => gateways.All(g => g.DistanceTo(key) <= m.DistanceTo(key))), Is.True);
    }

    [Test]
    public void A_gateway_on_the_way_ends_the_segment_without_walking_on_to_the_zone_key_owner()
    {
        // Gateway of zone 0 that is not the owner of zone 0's key (it knows a node closer to it), alone in the global ring.
        var zoneKey = ZoneKeys.ZoneKey(0);
        var self = new NodeHandle(new NodeId(zoneKey.Value + 1_000_000), new NodeAddress(1));
        var closer = new NodeHandle(new NodeId(zoneKey.Value + 1), new NodeAddress(2));
        var settings = RingSettings.Default;
        var zone = RingNodeState.CreateFirst(self, settings, LowestRttPlanner.Instance).State
            .Handle(new Announce(closer, TimeSpan.Zero), TimeSpan.Zero, new Ignore()).State;
        var global = RingNodeState.CreateFirst(self with { Id = ZoneKeys.GlobalIdFor(0, self.Id) }, settings, LowestRttPlanner.Instance).State;
        var node = new MultiRingNodeState(0, zone, global);
        Assert.That(zone.Decide(zoneKey).IsDeliverHere, Is.False, "the zone ring alone would forward to the closer node");

        var crossing = new CrossZonePayload(NodeId.FromName("key"), RingId.Global, "payload", []);
        var source = new NodeHandle(NodeId.FromName("source"), new NodeAddress(3));
        var step = node.Handle(new RingEnvelope(RingId.Zone(0), new RouteMessage(source, zoneKey, crossing, 2)), TimeSpan.Zero, new Ignore());

        Assert.That(step.Effects.OfType<Send>().Where(s => s.To == closer.Address), Is.Empty, "not forwarded to the zone key's owner");
        var delivered = step.Effects.OfType<Deliver>().Single();
        Assert.That(delivered.Context.Segments, Is.EqualTo(new[] { 2, 0 }), "zone segment of 2 hops, then the global ring (alone: delivered here)");
    }

    [Test]
    public void The_untagged_step_leaves_tagging_to_the_shell_unless_a_segment_ends_here()
    {
        var self = new NodeHandle(NodeId.FromName("self"), new NodeAddress(1));
        var peer = new NodeHandle(NodeId.FromName("peer"), new NodeAddress(2));
        var zone = RingNodeState.CreateFirst(self, RingSettings.Default, LowestRttPlanner.Instance).State;
        var node = new MultiRingNodeState(2, zone, null);
        var probe = new RingEnvelope(RingId.Zone(2), new Probe(peer, TimeSpan.FromSeconds(1)));

        var untagged = node.HandleUntagged(probe, TimeSpan.FromSeconds(2), new Ignore());
        var tagged = node.Handle(probe, TimeSpan.FromSeconds(2), new Ignore());

        Assert.That(untagged.Ring, Is.EqualTo(RingId.Zone(2)));
        var reply = untagged.Effects.OfType<Send>().Single(s => s.To == peer.Address);
        Assert.That(reply.Message, Is.InstanceOf<ProbeReply>(), "the ring's own message, not yet in an envelope");
        Assert.That(untagged.Effects.Select(e => MultiRingNodeState.Tag(RingId.Zone(2), e)), Is.EqualTo(tagged.Effects));
        Assert.That(tagged.Effects.OfType<Send>().Single(s => s.To == peer.Address).Message, Is.EqualTo(new RingEnvelope(RingId.Zone(2), reply.Message)));

        // A crossing that ends its zone segment at a gateway continues on the global ring: already tagged.
        var global = RingNodeState.CreateFirst(self with { Id = ZoneKeys.GlobalIdFor(2, self.Id) }, RingSettings.Default, LowestRttPlanner.Instance).State;
        var gateway = new MultiRingNodeState(2, zone, global);
        var crossing = new CrossZonePayload(NodeId.FromName("key"), RingId.Global, "payload", []);
        var route = new RingEnvelope(RingId.Zone(2), new RouteMessage(peer, ZoneKeys.ZoneKey(2), crossing, 1));
        var segmentEnd = gateway.HandleUntagged(route, TimeSpan.Zero, new Ignore());
        Assert.That(segmentEnd.Ring, Is.Null);
        Assert.That(gateway.Handle(route, TimeSpan.Zero, new Ignore()).Effects.Single(), Is.InstanceOf<Deliver>());
        Assert.That(segmentEnd.Effects.OfType<Deliver>().Single().Context.Segments, Is.EqualTo(new[] { 1, 0 }));
    }

    private sealed class Ignore : IRouteApplication
    {
        public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop) => ForwardVerdict.Continue;

        public void Deliver(RouteContext context)
        {
        }
    }

    [Test]
    public void Cross_zone_routes_pass_through_gateways_and_land_on_the_closest_node_of_the_target_zone()
    {
        var world = new MultiRingWorld(Seed);
        world.Build();
        Assert.That(world.ReadyCount, Is.EqualTo(Nodes + (Zones * GatewaysPerZone)), "every zone ring member and every global ring member is ready");

        var random = new Random(Seed);
        var sent = new List<(int Lookup, int Source, NodeId Key, RingId Target, int Expected)>();
        for (var i = 0; i < 400; i++)
        {
            var source = random.Next(Nodes);
            var key = RingWorld.RandomId(random);
            var target = RingId.Zone(random.Next(Zones));
            sent.Add((world.Route(source, key, target), source, key, target, world.ClosestInZone(key, target.Value)));
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(10));
        Assert.That(world.Pump.Observed.Where(o => o.Effect is RouteAbandoned), Is.Empty);
        var segmentHops = new List<ImmutableArray<int>>();
        foreach (var (lookup, source, key, target, expected) in sent)
        {
            Assert.That(world.Deliveries.TryGetValue(lookup, out var delivery), Is.True, $"lookup {lookup} delivered");
            Assert.That(delivery.Node, Is.EqualTo(expected), $"lookup {lookup} for {key} in {target}");
            var crossing = world.Topology.Nodes[source].Zone != target.Value;
            Assert.That(delivery.Segments.Length, Is.EqualTo(crossing ? 3 : 0));
            var foreignHops = world.Paths.GetValueOrDefault(lookup, [])
                .Where(n => world.Topology.Nodes[n].Zone != target.Value && world.Topology.Nodes[n].Zone != world.Topology.Nodes[source].Zone);
            Assert.That(foreignHops.All(world.IsGateway), Is.True, "outside the source and target zones only gateways carry the route");
            if (crossing)
            {
                segmentHops.Add(delivery.Segments);
                Assert.That(delivery.Hops, Is.EqualTo(delivery.Segments.Sum()));
            }
        }

        var means = Enumerable.Range(0, 3).Select(s => segmentHops.Average(h => h[s])).ToArray();
        TestContext.Out.WriteLine($"cross-zone routes: {segmentHops.Count}; mean hops per segment zone/global/zone = {means[0]:F2}/{means[1]:F2}/{means[2]:F2}");
        Assert.That(means[1], Is.GreaterThan(0).And.LessThan(3), "the global ring of 8 gateways is crossed in a few hops");
    }

    [Test]
    public void Crash_of_the_primary_gateways_fails_over_to_the_next_gateway_of_each_zone()
    {
        var world = new MultiRingWorld(Seed);
        world.Build();
        var primaries = Enumerable.Range(0, Zones).Select(world.PrimaryGateway).ToList();
        foreach (var gateway in primaries)
        {
            world.Crash(gateway);
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(20));
        var random = new Random(Seed + 2);
        var sent = new List<(int Lookup, int Expected)>();
        for (var i = 0; i < 200; i++)
        {
            var source = world.RandomLiveNode(random);
            var key = RingWorld.RandomId(random);
            var zone = random.Next(Zones);
            sent.Add((world.Route(source, key, RingId.Zone(zone)), world.ClosestInZone(key, zone)));
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(15));
        Assert.That(world.Pump.Observed.Where(o => o.Effect is RouteAbandoned), Is.Empty);
        Assert.That(sent.Select(s => world.Deliveries.GetValueOrDefault(s.Lookup).Node), Is.EqualTo(sent.Select(s => s.Expected)));
        Assert.That(sent.SelectMany(s => world.Paths.GetValueOrDefault(s.Lookup, [])).Intersect(primaries), Is.Empty);
    }

    [Test]
    public void Global_scope_resolves_to_the_closest_gateway_by_global_id()
    {
        var world = new MultiRingWorld(Seed);
        world.Build();
        var random = new Random(Seed + 1);
        var sent = new List<(int Lookup, int Expected)>();
        for (var i = 0; i < 100; i++)
        {
            var key = RingWorld.RandomId(random);
            sent.Add((world.Route(random.Next(Nodes), key, RingId.Global), world.ClosestGateway(key)));
        }

        world.Pump.RunFor(TimeSpan.FromSeconds(10));
        Assert.That(sent.Select(s => world.Deliveries.GetValueOrDefault(s.Lookup).Node), Is.EqualTo(sent.Select(s => s.Expected)));
    }

    /// <summary>Zone rings plus the global ring of gateways, built by joining, driven by <see cref="RingPump"/>.</summary>
    private sealed class MultiRingWorld
    {
        private readonly MultiRingNodeState?[] nodes;
        private readonly NodeId[] ids;
        private readonly HashSet<int> gateways = [];
        private readonly HashSet<int> crashed = [];
        private readonly Random random;
        private int nextLookup;

        public MultiRingWorld(int seed)
        {
            random = new Random(seed);
            Topology = TopologyGenerator.Generate(Zones, Nodes, NetworkSettings.Default, ZoneAssignment.Geographic, new Random(seed));
            nodes = new MultiRingNodeState?[Nodes];
            ids = [.. Enumerable.Range(0, Nodes).Select(_ => RingWorld.RandomId(random))];
            for (var zone = 0; zone < Zones; zone++)
            {
                var members = Enumerable.Range(0, Nodes).Where(n => Topology.Nodes[n].Zone == zone).ToList();
                var chosen = ZoneKeys.SelectGateways(members.Select(n => ids[n]), zone, GatewaysPerZone);
                gateways.UnionWith(members.Where(n => chosen.Contains(ids[n])));
            }

            Pump = new RingPump(new NetworkModel(Topology, NetworkSettings.Default, seed), Handle, n => nodes[n] is not null && !crashed.Contains(n))
            {
                OnDeliver = (node, context) => new Recorder(this, node).Deliver(context),
            };
        }

        public NetworkTopology Topology { get; }

        public RingPump Pump { get; }

        public Dictionary<int, (int Node, int Hops, ImmutableArray<int> Segments)> Deliveries { get; } = [];

        public Dictionary<int, List<int>> Paths { get; } = [];

        public int ReadyCount => nodes.Sum(n => (n!.ZoneRing.Phase == RingPhase.Ready ? 1 : 0) + (n.GlobalRing?.Phase == RingPhase.Ready ? 1 : 0));

        public bool IsGateway(int node) => gateways.Contains(node);

        /// <summary>The zone's gateway closest to its zone key: the first hop out of the zone.</summary>
        public int PrimaryGateway(int zone) =>
            gateways.Where(g => Topology.Nodes[g].Zone == zone).MinBy(g => ids[g].DistanceTo(ZoneKeys.ZoneKey(zone)));

        public void Crash(int node) => crashed.Add(node);

        public int RandomLiveNode(Random random)
        {
            var live = Enumerable.Range(0, Nodes).Where(n => !crashed.Contains(n)).ToArray();
            return live[random.Next(live.Length)];
        }

        public void Build()
        {
            var startedInZone = new Dictionary<int, List<int>>();
            var startedGateways = new List<int>();
            var settings = RingSettings.Default;
            for (var node = 0; node < Nodes; node++)
            {
                var self = node;
                Pump.At(TimeSpan.FromMilliseconds(100 * node), () =>
                {
                    var zone = Topology.Nodes[self].Zone;
                    var zoneMembers = startedInZone.TryGetValue(zone, out var list) ? list : startedInZone[zone] = [];
                    var handle = new NodeHandle(ids[self], new NodeAddress(self));
                    var zoneStep = zoneMembers.Count == 0
                        ? RingNodeState.CreateFirst(handle, settings, LowestRttPlanner.Instance)
                        : RingNodeState.CreateJoining(handle, new NodeAddress(zoneMembers[random.Next(zoneMembers.Count)]), settings, LowestRttPlanner.Instance);
                    RingStep<RingNodeState>? globalStep = null;
                    if (gateways.Contains(self))
                    {
                        var globalHandle = new NodeHandle(ZoneKeys.GlobalIdFor(zone, ids[self]), new NodeAddress(self));
                        globalStep = startedGateways.Count == 0
                            ? RingNodeState.CreateFirst(globalHandle, settings, LowestRttPlanner.Instance)
                            : RingNodeState.CreateJoining(globalHandle, new NodeAddress(startedGateways[random.Next(startedGateways.Count)]), settings, LowestRttPlanner.Instance);
                        startedGateways.Add(self);
                    }

                    var step = MultiRingNodeState.Compose(zone, zoneStep, globalStep);
                    nodes[self] = step.State;
                    zoneMembers.Add(self);
                    Pump.Perform(self, step.Effects);
                });
            }

            Pump.RunFor(TimeSpan.FromMilliseconds(100 * Nodes) + TimeSpan.FromSeconds(15));
        }

        public int Route(int source, NodeId key, RingId target)
        {
            var lookup = new Lookup(nextLookup++);
            Pump.Perform(source, nodes[source]!.Route(key, target, lookup).Effects);
            return lookup.Id;
        }

        public int ClosestInZone(NodeId key, int zone) =>
            Enumerable.Range(0, Nodes).Where(n => Topology.Nodes[n].Zone == zone && !crashed.Contains(n)).Aggregate((best, n) => ids[n].IsCloserTo(key, ids[best]) ? n : best);

        public int ClosestGateway(NodeId key) =>
            gateways.Aggregate((best, n) => GlobalId(n).IsCloserTo(key, GlobalId(best)) ? n : best);

        private NodeId GlobalId(int node) => ZoneKeys.GlobalIdFor(Topology.Nodes[node].Zone, ids[node]);

        private ImmutableArray<RingEffect> Handle(int node, RingMessage message, TimeSpan now)
        {
            var step = nodes[node]!.Handle((RingEnvelope)message, now, new Recorder(this, node));
            nodes[node] = step.State;
            return step.Effects;
        }

        private sealed class Recorder(MultiRingWorld world, int node) : IRouteApplication
        {
            public ForwardVerdict Forward(RouteContext context, NodeHandle nextHop)
            {
                if (context.Payload is Lookup lookup)
                {
                    if (!world.Paths.TryGetValue(lookup.Id, out var path))
                    {
                        world.Paths[lookup.Id] = path = [];
                    }

                    path.Add(node);
                }

                return ForwardVerdict.Continue;
            }

            public void Deliver(RouteContext context)
            {
                if (context.Payload is Lookup lookup)
                {
                    world.Deliveries[lookup.Id] = (node, context.Hops, context.Segments);
                }
            }
        }
    }
}
