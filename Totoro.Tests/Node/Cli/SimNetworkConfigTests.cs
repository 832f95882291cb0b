using Totoro.Actors.Sim;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Node.Cli;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Node.Cli;

/// <summary>The <c>totoro.sim.network</c> section: reference defaults, the world preset, and errors naming their key.</summary>
public sealed class SimNetworkConfigTests
{
    private static string WorldConf => Path.Combine(Repository.Root, "hocon", "sim", "world.conf");

    [Test]
    public void The_reference_section_is_the_built_in_default_network()
    {
        var loaded = SimNetworkConfig.Load(null);
        var expected = NetworkSettings.Default;

        Assert.That(loaded with { BandwidthClasses = [], ComputeClasses = [], ZoneSites = [] }, Is.EqualTo(expected with { BandwidthClasses = [], ComputeClasses = [], ZoneSites = [] }));
        Assert.That(loaded.BandwidthClasses, Is.EqualTo(expected.BandwidthClasses));
        Assert.That(loaded.ComputeClasses, Is.EqualTo(expected.ComputeClasses));
        Assert.That(loaded.ZoneSites, Is.Empty);
        Assert.That(loaded.Geometry, Is.EqualTo(MapGeometry.Plane));
    }

    [Test]
    public void The_world_preset_places_twelve_zones_on_the_earth_and_keeps_every_other_default()
    {
        var world = SimNetworkConfig.Load(WorldConf);

        Assert.That(world.Geometry, Is.EqualTo(MapGeometry.Earth));
        Assert.That(world.ZoneSites, Has.Length.EqualTo(12));
        Assert.That(world.ZoneSites[0], Is.EqualTo(new ZoneSite("frankfurt", 50.11, 8.68)));
        Assert.That(world.BaseLatency, Is.EqualTo(NetworkSettings.Default.BaseLatency));
        Assert.That(world.PropagationKmPerMs, Is.EqualTo(NetworkSettings.Default.PropagationKmPerMs));
        Assert.That(world.BandwidthClasses, Is.EqualTo(NetworkSettings.Default.BandwidthClasses));
    }

    [Test]
    public void Every_bad_key_is_named_with_its_path()
    {
        var config = HoconConfig.Parse(
            """
            totoro.sim.network {
              base-latency = -2ms
              loss-probability = 1
              bandwidth-classes = []
              zone-sites = [{ name = x, latitude = 95, longitude = 0 }, { name = x, latitude = 0, longitude = 0 }]
            }
            """,
            "net.conf",
            new HoconReadOptions { Fallback = ReferenceConfig.Load(typeof(SimNetworkConfig).Assembly) });

        var error = Assert.Throws<SettingsException>(() => SimNetworkConfig.FromConfig(config))!;

        Assert.That(error.Errors, Has.Some.StartsWith("totoro.sim.network.base-latency:"));
        Assert.That(error.Errors, Has.Some.StartsWith("totoro.sim.network.zone-sites.0.latitude: must be between -90 and 90, was 95"));
        Assert.That(error.Errors, Has.Some.EqualTo("totoro.sim.network.loss-probability: must be below 1"));
        Assert.That(error.Errors, Has.Some.EqualTo("totoro.sim.network.bandwidth-classes: needs at least one class"));
        Assert.That(error.Errors, Has.Some.EqualTo("totoro.sim.network.zone-sites: site names must be distinct"));
    }

    [Test]
    public void A_missing_file_is_named()
    {
        var error = Assert.Throws<SettingsException>(() => SimNetworkConfig.Load("/nonexistent/net.conf"))!;

        Assert.That(error.Message, Does.Contain("--network: config file '/nonexistent/net.conf' does not exist"));
    }
}
