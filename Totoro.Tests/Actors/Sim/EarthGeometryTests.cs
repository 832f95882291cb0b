using System.Collections.Immutable;
using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Sim;

/// <summary>Zones at sites on the Earth: great-circle distances, tangent-plane scatter, and latency from both.</summary>
public sealed class EarthGeometryTests
{
    private static readonly ImmutableArray<ZoneSite> Sites =
    [
        new("london", 51.51, -0.13),
        new("frankfurt", 50.11, 8.68),
        new("sydney", -33.87, 151.21),
    ];

    [Test]
    public void Great_circle_distances_match_known_city_pairs()
    {
        var london = EarthGeometry.At(51.51, -0.13);
        var frankfurt = EarthGeometry.At(50.11, 8.68);
        var sydney = EarthGeometry.At(-33.87, 151.21);

        // Haversine values on a 6,371 km sphere: London–Frankfurt ≈ 637 km, London–Sydney ≈ 16,990 km.
        Assert.That(EarthGeometry.Distance(london, frankfurt), Is.EqualTo(637).Within(3));
        Assert.That(EarthGeometry.Distance(london, sydney), Is.EqualTo(16_990).Within(40));
        Assert.That(EarthGeometry.Distance(EarthGeometry.At(0, 0), EarthGeometry.At(0, 180)), Is.EqualTo(Math.PI * EarthGeometry.RadiusKm).Within(1e-6));
    }

    [TestCase(48.0, 2.0)]
    [TestCase(-33.9, 151.2)]
    [TestCase(90.0, 0.0)]
    public void A_tangent_offset_lands_that_far_away_on_the_sphere(double latitude, double longitude)
    {
        var centre = EarthGeometry.At(latitude, longitude);

        var moved = EarthGeometry.Offset(centre, eastKm: 120, northKm: -160);

        Assert.That(EarthGeometry.Distance(centre, moved), Is.EqualTo(200).Within(0.5));
        Assert.That(Math.Sqrt((moved.X * moved.X) + (moved.Y * moved.Y) + (moved.Z * moved.Z)), Is.EqualTo(EarthGeometry.RadiusKm).Within(1e-6));
    }

    [Test]
    public void Zones_sit_at_their_sites_and_latency_follows_the_great_circle()
    {
        var settings = NetworkSettings.Default with { ZoneSites = Sites, MaxJitter = TimeSpan.Zero };

        var topology = TopologyGenerator.Generate(3, 3000, settings, ZoneAssignment.Geographic, new Random(5));
        var model = new NetworkModel(topology, settings, seed: 1);

        Assert.That(topology.Geometry, Is.EqualTo(MapGeometry.Earth));
        Assert.That(topology.ZoneCentres[2], Is.EqualTo(EarthGeometry.At(-33.87, 151.21)));
        var meanFromCentre = topology.Nodes.Average(n => EarthGeometry.Distance(n.Position, topology.ZoneCentres[n.Zone]));
        Assert.That(meanFromCentre, Is.EqualTo(150 * Math.Sqrt(Math.PI / 2)).Within(10), "Rayleigh mean of a 150 km Gaussian spread");
        var londoner = topology.Nodes.First(n => n.Zone == 0).Index;
        var sydneysider = topology.Nodes.First(n => n.Zone == 2).Index;
        var expected = 2 + (EarthGeometry.Distance(topology.Nodes[londoner].Position, topology.Nodes[sydneysider].Position) / 200);
        Assert.That(model.PropagationDelay(londoner, sydneysider).TotalMilliseconds, Is.EqualTo(expected).Within(1e-3));
        Assert.That(expected, Is.GreaterThan(80), "about 17,000 km of fibre");
    }

    [Test]
    public void Landmark_zones_are_the_nearest_site_by_great_circle()
    {
        var settings = NetworkSettings.Default with { ZoneSites = Sites, MaxJitter = TimeSpan.Zero, ZoneSpreadKm = 400 };

        var topology = TopologyGenerator.Generate(3, 2000, settings, ZoneAssignment.LandmarkRtt, new Random(9));

        foreach (var node in topology.Nodes)
        {
            var nearest = Enumerable.Range(0, 3).MinBy(z => EarthGeometry.Distance(node.Position, topology.ZoneCentres[z]));
            Assert.That(node.Zone, Is.EqualTo(nearest));
        }

        Assert.That(topology.Nodes.Select(n => n.Zone).Distinct().Count(), Is.EqualTo(3));
    }

    [Test]
    public void More_zones_than_sites_is_refused_naming_the_setting()
    {
        var settings = NetworkSettings.Default with { ZoneSites = Sites };

        var generate = Assert.Throws<ArgumentOutOfRangeException>(() => TopologyGenerator.Generate(4, 10, settings, ZoneAssignment.Geographic, new Random(1)))!;
        var options = Assert.Throws<ArgumentOutOfRangeException>(() => new RingSimOptions(100, 4, 4, 1, 1, 10, 0) { Network = settings }.Validated())!;

        Assert.That(generate.Message, Does.Contain("zone-sites lists only 3"));
        Assert.That(options.Message, Does.Contain("--zones 4, but totoro.sim.network.zone-sites lists only 3 sites"));
    }

    [Test]
    public void A_site_off_the_globe_is_refused()
    {
        var settings = NetworkSettings.Default with { ZoneSites = [new ZoneSite("nowhere", 91, 0)] };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => settings.Validated())!;

        Assert.That(error.Message, Does.Contain("latitude in [-90, 90]"));
    }
}
