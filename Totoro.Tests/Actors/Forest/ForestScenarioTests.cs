using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>In-process scenarios: forests over rings of hundreds of nodes built by joining, on virtual time.</summary>
public class ForestScenarioTests
{
    // FOREST_SEED overrides the seed to explore other runs; failures print the seed in use.
    private static readonly int Seed = int.Parse(Environment.GetEnvironmentVariable("FOREST_SEED") ?? "2024", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(12);

    internal static ForestWorld Build(int nodes, int zones = 1, ForestSettings? settings = null, int? seed = null)
    {
        var world = new ForestWorld(nodes, zones, seed ?? Seed, settings) { Contribution = (node, topic, round) => null };
        world.Build(TimeSpan.FromMilliseconds(100));
        return world;
    }

    internal static void SubscribeAll(ForestWorld world, TopicId topic, IEnumerable<int> members, int homeZone = 0)
    {
        foreach (var node in members)
        {
            world.Subscribe(node, topic, homeZone);
        }

        world.RunFor(TimeSpan.FromSeconds(10));
    }

    internal static FoldCompleted RunRound(ForestWorld world, TopicId topic, long round)
    {
        var root = world.RootOf(topic);
        Assert.That(root, Is.Not.Null, $"seed {world.Seed}: exactly one live root of {topic}");
        world.Publish(root!.Value, topic, round, new FoldRequest(round, VectorSum.Combiner.Kind, Budget));
        world.RunFor(Budget + TimeSpan.FromSeconds(3));
        var completed = world.Reports.Select(r => r.Report).OfType<FoldCompleted>().Where(f => f.Topic == topic && f.Round == round).ToList();
        Assert.That(completed, Has.Count.EqualTo(1), $"seed {world.Seed}: round {round} of {topic} completes once");
        return completed[0];
    }

    internal static void AssertFlatSum(ForestWorld world, FoldCompleted result, TopicId topic, IEnumerable<int> expectedContributors)
    {
        var expected = expectedContributors.Select(n => world.Ids[n]).Order().ToList();
        Assert.That(result.Contributors, Is.EqualTo(expected), $"seed {world.Seed}: contributors of round {result.Round}");
        var flat = VectorSum.Flat(expected.Select(id => VectorSum.For(id, topic, result.Round)));
        Assert.That((double[])result.Value, Is.EqualTo(flat).Within(1e-6), $"seed {world.Seed}: fold equals the flat sum");
    }

    private static int MaxFanOut(ForestWorld world, TopicId topic) =>
        world.LiveNodes.Select(n => world.Forest(n).Describe(topic)?.FanOut ?? 0).Max();

    [Test]
    public void Fold_at_the_root_equals_the_flat_sum_and_every_subscriber_gets_each_publish_once()
    {
        const int nodes = 300;
        var world = Build(nodes);
        world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
        var topic = TopicId.For("mnist");
        var members = Enumerable.Range(0, nodes).ToList();
        SubscribeAll(world, topic, members);

        Assert.That(world.RootOf(topic), Is.EqualTo(world.ClosestLiveInZone(topic.Key, 0)), "the root is the live node closest to the topic key");
        var depths = world.WalkToRoot(topic);
        Assert.That(depths.Keys, Is.SupersetOf(members), "every subscriber is attached");

        for (var round = 1; round <= 3; round++)
        {
            var result = RunRound(world, topic, round);
            AssertFlatSum(world, result, topic, members);
            Assert.That(result.ByDeadline, Is.False, "no part was missing, so the round did not wait for its deadline");
            var received = world.AppDeliveries.Where(d => d.Topic == topic && d.MessageId == round).GroupBy(d => d.Node).ToList();
            Assert.That(received.Select(g => g.Key).Order(), Is.EqualTo(members), "every subscriber received the publish");
            Assert.That(received.All(g => g.Count() == 1), Is.True, "exactly once");
        }

        var rootFanIn = world.Forest(world.RootOf(topic)!.Value).Describe(topic)!.FanOut;
        var bound = (int)Math.Ceiling(Math.Log(nodes, 16)) + 1;
        TestContext.Out.WriteLine($"seed {world.Seed}, N={nodes}: depth max {depths.Values.Max()} mean {depths.Values.Average():F2} (bound {bound}), root fan-in {rootFanIn}, max fan-out {MaxFanOut(world, topic)}, forwarders {world.LiveNodes.Count(n => world.Forest(n).Describe(topic)?.Role == TreeRole.Forwarder)}");
        Assert.That(rootFanIn, Is.LessThanOrEqualTo(ForestSettings.Default.FanOutCap));
        Assert.That(depths.Values.Max(), Is.LessThanOrEqualTo(bound));
        Assert.That(world.Abandoned, Is.Empty);
    }
}
