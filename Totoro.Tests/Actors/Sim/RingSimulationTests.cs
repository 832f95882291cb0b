using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Sim;

/// <summary>
/// The ring simulator: every node a ring actor on one system, links timed by the network model. Virtual time only;
/// no assertion depends on wall-clock speed.
/// </summary>
[TestFixture]
internal sealed class RingSimulationTests
{
    [TestCase(500, 1)]
    [TestCase(50, 2)]
    public void Every_key_routes_to_its_closest_live_node_after_the_build(int nodes, int seed)
    {
        var simulation = new RingSimulation(new RingSimOptions(nodes, Zones: 1, BitsPerDigit: 4, seed, CandidatesPerSlot: 2, Lookups: 1000, ChurnPercent: 0));
        simulation.Build();
        simulation.Settle(TimeSpan.FromSeconds(60));

        var report = simulation.MeasureLookups();

        Assert.That(simulation.Joined, Is.EqualTo(nodes), $"seed {seed}: every node joined");
        Assert.That(report.Delivered, Is.EqualTo(1000), $"seed {seed}: every lookup delivered");
        Assert.That(report.Misroutes, Is.Zero, $"seed {seed}");
        Assert.That(report.MaxHops, Is.LessThanOrEqualTo(4));
        Assert.That(simulation.CountWrongLeafSets(nodes), Is.Zero);
    }

    [Test]
    public void Preparing_ring_steps_ahead_changes_no_result()
    {
        // Three zones (cross-zone routes, gateways) and a crash (failed hops, repair): every kind of ring message.
        var options = new RingSimOptions(1500, Zones: 3, BitsPerDigit: 4, Seed: 4, CandidatesPerSlot: 1, Lookups: 2000, ChurnPercent: 0);
        var runs = new[] { TimeSpan.Zero, RingSimOptions.DefaultPrepareWindow(NetworkSettings.Default), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(200) }.Select(window =>
        {
            var simulation = new RingSimulation(options with { PrepareWindow = window, TableMaintenanceInterval = TimeSpan.FromSeconds(5) });
            simulation.World.PrepareMinimum = 1; // a 1,500-node ring has few messages per millisecond: prepare them all
            simulation.Build();
            var built = simulation.MeasureLookups();
            simulation.Crash(10);
            simulation.Settle(TimeSpan.FromSeconds(120));
            var repaired = simulation.MeasureLookups();
            return (Prepared: simulation.World.StepsPrepared, Outcome: string.Join(" | ",
                simulation.MessagesSent, simulation.JoinMessages, simulation.PeerFailures, simulation.VirtualTime.Ticks, simulation.MeasureState(300),
                Describe(built), Describe(repaired)));
        }).ToArray();

        Assert.That(runs[0].Prepared, Is.Zero);
        Assert.That(runs.Skip(1).Select(run => run.Prepared), Is.All.Positive, "every window prepared steps");
        Assert.That(runs[1].Outcome, Is.EqualTo(runs[0].Outcome), "the default window (1 ms)");
        Assert.That(runs[2].Outcome, Is.EqualTo(runs[0].Outcome), "2 ms: the next window is no longer complete when it is staged");
        Assert.That(runs[3].Outcome, Is.EqualTo(runs[0].Outcome), "a window far above the latency floor: many preparations go stale; still the same run");
    }

    private static string Describe(LookupReport report) =>
        $"{report.Delivered} {report.Misroutes} {report.MeanHops:R} {report.MaxHops} {string.Join(",", report.HopHistogram)} {report.MedianStretch:R}";

    [Test]
    public void The_build_waits_for_every_join_and_a_short_timeout_reports_the_unfinished_ones()
    {
        var options = new RingSimOptions(2000, Zones: 1, BitsPerDigit: 4, Seed: 5, CandidatesPerSlot: 1, Lookups: 1000, ChurnPercent: 0) { JoinRatePerSecond = 2000 };
        var complete = new RingSimulation(options);
        complete.Build();
        Assert.That(complete.UnfinishedJoins, Is.Zero);
        Assert.That(complete.Joined, Is.EqualTo(2000));

        var cut = new RingSimulation(options with { BuildTimeout = TimeSpan.FromMilliseconds(1) });
        cut.Build();
        Assert.That(cut.UnfinishedJoins, Is.Positive, "the last joins were still on their way");
        Assert.That(cut.UnfinishedJoins + cut.Joined, Is.EqualTo(2000));
        Assert.That(cut.LiveNodes, Is.EqualTo(cut.Joined), "a node that has not finished joining is not a member");
        var report = cut.MeasureLookups();
        Assert.That(report.Delivered, Is.EqualTo(1000));
        Assert.That(report.LateJoinerDeliveries, Is.Positive, "joins finished during the lookups and took over their keys");
        Assert.That(report.Misroutes, Is.Zero, "a delivery to a node that joined meanwhile and is the closest member is no misroute");
        Assert.That(() => new RingSimulation(options with { BuildTimeout = TimeSpan.Zero }), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Crash_of_half_a_leaf_set_minus_one_adjacent_nodes_keeps_delivery_correct()
    {
        var simulation = new RingSimulation(new RingSimOptions(300, 1, 4, Seed: 3, CandidatesPerSlot: 2, Lookups: 1000, ChurnPercent: 0));
        simulation.Build();
        simulation.Settle(TimeSpan.FromSeconds(60));
        var sorted = Enumerable.Range(0, 300).OrderBy(node => simulation.Ids[node]).ToArray();
        var adjacent = sorted.AsSpan(100, (simulation.Options.RingSettings.LeafSetSize / 2) - 1).ToArray();

        simulation.Crash(adjacent);
        simulation.Settle(TimeSpan.FromSeconds(600));
        var report = simulation.MeasureLookups();

        Assert.That(simulation.PeerFailures, Is.GreaterThan(0), "neighbours declared the crashed nodes dead");
        Assert.That(simulation.CountWrongLeafSets(300), Is.Zero, "leaf sets repaired around the gap");
        Assert.That(report.Delivered, Is.EqualTo(1000));
        Assert.That(report.Misroutes, Is.Zero);
    }

    [Test]
    public void After_a_fifth_of_the_nodes_crash_and_repair_runs_no_live_key_is_misrouted()
    {
        var simulation = new RingSimulation(new RingSimOptions(400, 1, 4, Seed: 4, CandidatesPerSlot: 2, Lookups: 1000, ChurnPercent: 20));
        simulation.Build();
        simulation.Settle(TimeSpan.FromSeconds(60));

        Assert.That(simulation.Crash(20), Is.EqualTo(80));
        simulation.Settle(TimeSpan.FromSeconds(180));
        var report = simulation.MeasureLookups();

        Assert.That(report.LiveNodes, Is.EqualTo(320));
        Assert.That(report.Delivered, Is.EqualTo(1000));
        Assert.That(report.Misroutes, Is.Zero);
    }

    [TestCase(ZoneAssignment.Geographic)]
    [TestCase(ZoneAssignment.LandmarkRtt)]
    public void Routes_across_zones_go_through_the_gateways_and_land_on_the_closest_node_of_the_target_zone(ZoneAssignment assignment)
    {
        var simulation = new RingSimulation(new RingSimOptions(240, Zones: 4, BitsPerDigit: 4, Seed: 5, CandidatesPerSlot: 2, Lookups: 800, ChurnPercent: 0) { ZoneAssignment = assignment });
        simulation.Build();
        simulation.Settle(TimeSpan.FromSeconds(60));

        var report = simulation.MeasureLookups();

        Assert.That(simulation.Joined, Is.EqualTo(simulation.ExpectedMemberships), "zone rings and the global ring of 4 × 2 gateways");
        Assert.That(simulation.ExpectedMemberships, Is.EqualTo(240 + 8));
        Assert.That(report.Delivered, Is.EqualTo(800));
        Assert.That(report.Misroutes, Is.Zero, "each key lands on the closest live node of its target zone");
        Assert.That(report.MedianStretch, Is.GreaterThanOrEqualTo(1.0), "an overlay path is never shorter than the direct link");
    }

    [Test]
    public void The_default_prepare_window_follows_the_network_it_runs_on()
    {
        var slow = NetworkSettings.Default with { BaseLatency = TimeSpan.FromMilliseconds(6) };
        var options = new RingSimOptions(100, 1, 4, 1, 1, 10, 0);

        Assert.That(options.PrepareWindow, Is.EqualTo(TimeSpan.FromMilliseconds(1)));
        Assert.That((options with { Network = slow }).PrepareWindow, Is.EqualTo(TimeSpan.FromMilliseconds(3)));
        Assert.That((options with { Network = slow, PrepareWindow = TimeSpan.Zero }).PrepareWindow, Is.EqualTo(TimeSpan.Zero));
    }
}
