using Totoro.Actors.Forest;
using Totoro.Actors.Sim;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// The forest simulator (ring actors and forest actors on one deterministic world, links timed by the network model):
/// many topics on one overlay stay independent, and the measurements the <c>sim forest</c> command reports hold.
/// </summary>
[TestFixture]
internal sealed class ForestSimulationTests
{
    [Test]
    public void A_hundred_topics_on_500_nodes_stay_independent_and_every_fold_is_exact()
    {
        var simulation = new ForestSimulation(new ForestSimOptions(Nodes: 500, Topics: 100, Members: 10, FanOutCap: 32, Zones: 1, ModelBytes: 4096, Seed: 3));
        simulation.Build();
        simulation.Subscribe();
        var states = simulation.Snapshot();
        var trees = simulation.Topics.ToDictionary(topic => topic, topic => simulation.Measure(topic, states));
        Assert.That(trees.Values.Select(tree => tree.Roots.Length), Is.All.EqualTo(1), "one root per topic");
        Assert.That(trees.Values.Select(tree => tree.AttachedMembers), Is.EqualTo(trees.Values.Select(tree => tree.Members)), "every member attached");
        Assert.That(states.Values.Max(state => state.Trees.Count), Is.LessThan(100), "no node holds every topic");

        var start = simulation.PublishAndFold(1, trees.ToDictionary(pair => pair.Key, pair => pair.Value.Roots[0]));
        foreach (var topic in simulation.Topics)
        {
            var members = simulation.MembersOf[topic];
            var delivered = simulation.Recorder.Deliveries.Where(pair => pair.Key.Topic == topic).ToList();
            Assert.That(delivered.Select(pair => pair.Key.Node).Order(), Is.EqualTo(members.Order()), $"{topic}: exactly its members");
            Assert.That(delivered.Select(pair => pair.Value), Is.All.EqualTo(1), $"{topic}: once each");

            var (fold, at, root) = simulation.Recorder.Folds[(topic, 1)];
            var partial = (SimPartial)fold.Value;
            var flat = members.Select(node => ForestSimRecorder.ValueOf(simulation.Ring.Ids[node], topic)).Sum();
            Assert.That(root, Is.EqualTo(trees[topic].Roots[0]));
            Assert.That(fold.ByDeadline, Is.False, $"{topic}: closed complete");
            Assert.That(partial.Count, Is.EqualTo(members.Length));
            Assert.That(partial.Sum, Is.EqualTo(flat).Within(1e-6));
            Assert.That(at, Is.GreaterThan(start));

            var traffic = simulation.Links.TrafficOf(topic);
            var treeNodes = states.Where(pair => pair.Value.Trees.ContainsKey(topic)).Select(pair => pair.Key).ToHashSet();
            Assert.That(traffic.MulticastCopiesBySender.Keys, Is.SubsetOf(treeNodes), $"{topic}: multicasts leave only its tree's nodes");
            Assert.That(traffic.PartialsByEdge.Keys.Select(edge => edge.To).Distinct(), Is.SubsetOf(treeNodes), $"{topic}: partials reach only its tree's nodes");
            Assert.That(traffic.PartialsByEdge.Values, Is.All.EqualTo(1), $"{topic}: one partial per child per round");
            Assert.That(traffic.Partials, Is.EqualTo(treeNodes.Count - 1), $"{topic}: every non-root tree node sent exactly one partial");
        }
    }
}

/// <summary>Zones in the forest simulator: members of other zones hang below one zone head per zone and topic.</summary>
[TestFixture]
internal sealed class ForestSimulationZoneTests
{
    [Test]
    public void Members_in_three_zones_form_one_tree_per_topic_with_at_most_one_head_per_other_zone()
    {
        var simulation = new ForestSimulation(new ForestSimOptions(Nodes: 600, Topics: 2, Members: 60, FanOutCap: 32, Zones: 3, ModelBytes: 4096, Seed: 5));
        simulation.Build();
        simulation.Subscribe();
        var states = simulation.Snapshot();
        var trees = simulation.Topics.ToDictionary(topic => topic, topic => simulation.Measure(topic, states));
        Assert.That(trees.Values.Select(tree => tree.Roots.Length), Is.All.EqualTo(1));
        Assert.That(trees.Values.Select(tree => tree.AttachedMembers), Is.All.EqualTo(60));
        Assert.That(trees.Values.Select(tree => tree.ZoneHeads), Is.All.InRange(1, 2), "one head per populated non-home zone");

        simulation.PublishAndFold(1, trees.ToDictionary(pair => pair.Key, pair => pair.Value.Roots[0]));
        foreach (var topic in simulation.Topics)
        {
            var members = simulation.MembersOf[topic];
            var counts = simulation.Recorder.Deliveries.Where(pair => pair.Key.Topic == topic).Select(pair => pair.Value).ToList();
            Assert.That(counts, Has.Count.EqualTo(members.Length));
            Assert.That(counts, Is.All.EqualTo(1));
            var partial = (SimPartial)simulation.Recorder.Folds[(topic, 1)].Fold.Value;
            Assert.That(partial.Count, Is.EqualTo(members.Length));
            Assert.That(partial.Sum, Is.EqualTo(members.Select(node => ForestSimRecorder.ValueOf(simulation.Ring.Ids[node], topic)).Sum()).Within(1e-6));
            Assert.That(simulation.Links.TrafficOf(topic).PartialsByEdge.Values, Is.All.EqualTo(1));
        }
    }
}
