using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Sim;

public class NetworkModelTests
{
    private static readonly NetworkSettings Exact = NetworkSettings.Default with
    {
        BaseLatency = TimeSpan.FromMilliseconds(2),
        MaxJitter = TimeSpan.Zero,
        PropagationKmPerMs = 200,
        LossProbability = 0,
    };

    /// <summary>Node 0 at the origin (8 Mbit/s both ways), node 1 200 km away (8 up / 4 down), node 2 at the origin (16/16).</summary>
    private static NetworkTopology ThreeNodes() => new(
        [new MapPoint(0, 0)],
        [
            new SimNode(0, 0, new MapPoint(0, 0), 8e6, 8e6, 1e9),
            new SimNode(1, 0, new MapPoint(200, 0), 8e6, 4e6, 4e9),
            new SimNode(2, 0, new MapPoint(0, 0), 16e6, 16e6, 1e9),
        ]);

    [Test]
    public void Message_pays_uplink_serialization_propagation_and_downlink_serialization()
    {
        var model = new NetworkModel(ThreeNodes(), Exact, seed: 1);
        var outcome = model.Transmit(0, 1, 1000, TimeSpan.Zero);

        // 1 ms on an 8 Mbit/s uplink + (2 ms base + 1 ms for 200 km) + 2 ms on a 4 Mbit/s downlink.
        Assert.That(outcome, Is.EqualTo(TransmitOutcome.At(TimeSpan.FromMilliseconds(6))));
        Assert.That(model.BaseRtt(0, 1), Is.EqualTo(TimeSpan.FromMilliseconds(6)));
    }

    [Test]
    public void Back_to_back_messages_queue_fifo_on_the_sender_uplink_and_the_receiver_downlink()
    {
        var model = new NetworkModel(ThreeNodes(), Exact, seed: 1);
        var first = model.Transmit(0, 1, 1000, TimeSpan.Zero);
        var second = model.Transmit(0, 1, 1000, TimeSpan.Zero);

        // Second departs at 2 ms, reaches node 1 at 5 ms, waits for the downlink until 6 ms, done at 8 ms.
        Assert.That(second.Arrival - first.Arrival, Is.EqualTo(TimeSpan.FromMilliseconds(2)));
        Assert.That(second.Arrival, Is.EqualTo(TimeSpan.FromMilliseconds(8)));

        // A third sender shares only node 1's downlink: it reaches node 1 at 3.5 ms but waits for 8 ms.
        var third = model.Transmit(2, 1, 1000, TimeSpan.Zero);
        Assert.That(third.Arrival, Is.EqualTo(TimeSpan.FromMilliseconds(10)));
    }

    [Test]
    public void Idle_links_do_not_delay_a_later_message()
    {
        var model = new NetworkModel(ThreeNodes(), Exact, seed: 1);
        model.Transmit(0, 1, 1000, TimeSpan.Zero);
        var later = model.Transmit(0, 1, 1000, TimeSpan.FromSeconds(1));
        Assert.That(later.Arrival, Is.EqualTo(TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(6)));
    }

    [Test]
    public void Loss_and_jitter_are_seeded_and_reproducible()
    {
        var lossy = Exact with { LossProbability = 0.3, MaxJitter = TimeSpan.FromMilliseconds(5) };
        var topology = ThreeNodes();
        List<TransmitOutcome> Run(int seed)
        {
            var model = new NetworkModel(topology, lossy, seed);
            return [.. Enumerable.Range(0, 5000).Select(i => model.Transmit(i % 2, 2, 100, TimeSpan.FromMilliseconds(i)))];
        }

        var first = Run(7);
        Assert.That(Run(7), Is.EqualTo(first));
        Assert.That(Run(8), Is.Not.EqualTo(first));
        var dropped = first.Count(o => !o.Delivered) / (double)first.Count;
        Assert.That(dropped, Is.InRange(0.27, 0.33));
        var delays = first.Select((o, i) => (o, i)).Where(x => x.o.Delivered).Select(x => x.o.Arrival - TimeSpan.FromMilliseconds(x.i)).ToList();
        Assert.That(delays.Max() - delays.Min(), Is.GreaterThan(TimeSpan.FromMilliseconds(3)), "jitter spreads the delays");
    }

    [Test]
    public void Compute_time_follows_the_device_class()
    {
        var model = new NetworkModel(ThreeNodes(), Exact, seed: 1);
        Assert.That(model.ComputeTime(1, 2e9), Is.EqualTo(TimeSpan.FromMilliseconds(500)));
    }

    [Test]
    public void Topology_is_deterministic_by_seed_and_clusters_nodes_around_zone_centres()
    {
        var settings = NetworkSettings.Default;
        var topology = TopologyGenerator.Generate(12, 3000, settings, ZoneAssignment.Geographic, new Random(5));
        var again = TopologyGenerator.Generate(12, 3000, settings, ZoneAssignment.Geographic, new Random(5));
        Assert.That(again.Nodes, Is.EqualTo(topology.Nodes));
        Assert.That(again.ZoneCentres, Is.EqualTo(topology.ZoneCentres));
        Assert.That(TopologyGenerator.Generate(12, 3000, settings, ZoneAssignment.Geographic, new Random(6)).Nodes, Is.Not.EqualTo(topology.Nodes));

        var meanDistance = topology.Nodes.Average(n => n.Position.DistanceTo(topology.ZoneCentres[n.Zone]));
        Assert.That(meanDistance, Is.LessThan(settings.ZoneSpreadKm * 2));
        Assert.That(topology.Nodes.Select(n => n.Zone).Distinct().Count(), Is.EqualTo(12));
        var constrained = topology.Nodes.Count(n => n.UplinkBitsPerSecond == 1e6) / 3000.0;
        Assert.That(constrained, Is.InRange(0.25, 0.35), "bandwidth classes follow their weights");
    }

    [Test]
    public void Landmark_zones_pick_the_lowest_rtt_landmark()
    {
        var settings = NetworkSettings.Default with { MaxJitter = TimeSpan.Zero };
        var geographic = TopologyGenerator.Generate(12, 2000, settings, ZoneAssignment.Geographic, new Random(9));
        var landmark = TopologyGenerator.Generate(12, 2000, settings, ZoneAssignment.LandmarkRtt, new Random(9));
        foreach (var node in landmark.Nodes)
        {
            var nearest = Enumerable.Range(0, 12).MinBy(z => node.Position.DistanceTo(landmark.ZoneCentres[z]));
            Assert.That(node.Zone, Is.EqualTo(nearest));
        }

        var agreeing = geographic.Nodes.Zip(landmark.Nodes).Count(pair => pair.First.Zone == pair.Second.Zone) / 2000.0;
        TestContext.Out.WriteLine($"landmark zone = generating zone for {agreeing:P1} of nodes");
        Assert.That(agreeing, Is.GreaterThan(0.8));
    }

    [Test]
    public void Settings_name_the_offending_key()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => (NetworkSettings.Default with { LossProbability = 1 }).Validated());
        Assert.That(error!.Message, Does.Contain("totoro.sim.network.loss-probability"));
    }
}
