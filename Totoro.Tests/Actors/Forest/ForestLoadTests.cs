using Totoro.Actors.Forest;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// The load-aware parent choice (<see cref="ForestSettings.ChildBudget"/>): a node already forwarding for many
/// topics passes subscribers on instead of taking on more forwarding, and the forest's guarantees still hold.
/// </summary>
public class ForestLoadTests
{
    private static readonly TopicId Topic = TopicId.For("unit");
    private static readonly TopicId Other = TopicId.For("other");
    private static readonly TopicId Third = TopicId.For("third");
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);

    private static NodeHandle H(int i) => new(NodeId.FromName("node" + i), new NodeAddress(i));

    private static SubscribeRequest Sub(int i, TopicId topic) => new(topic, 0, 0, H(i), 0, 1);

    private static RouteContext Routed(ForestMessage payload, NodeId key) => new(key, payload, null, 1, []);

    /// <summary>Node 0: root of <see cref="Topic"/> with children 1, 2 and forwarder in <see cref="Other"/> for 3, 4.</summary>
    private static ForestState Loaded(ForestSettings settings)
    {
        var state = ForestState.Create(H(0), 0, settings, new FoldCombiners([VectorSum.Combiner])).State;
        state = state.OnDeliver(Routed(new CreateTopicRequest(Topic, 0), Topic.Key), T0).State;
        state = state.OnDeliver(Routed(Sub(1, Topic), Topic.Key), T0).State.OnDeliver(Routed(Sub(2, Topic), Topic.Key), T0).State;
        state = state.OnForward(Routed(Sub(3, Other), Other.Key), T0).Step.State;
        return state.OnForward(Routed(Sub(4, Other), Other.Key), T0).Step.State;
    }

    [Test]
    public void A_node_over_its_child_budget_pushes_newcomers_down_and_becomes_no_new_forwarder()
    {
        var budgeted = Loaded(ForestSettings.Default with { ChildBudget = 4, LoadedFanOut = 2 });

        var pushed = budgeted.OnDeliver(Routed(Sub(9, Topic), Topic.Key), T0);
        Assert.That(pushed.State.Describe(Topic)!.FanOut, Is.EqualTo(2), "the root keeps its loaded fan-out");
        var push = pushed.Effects.OfType<SendToPeer>().Single();
        Assert.That(push.Message, Is.EqualTo(new PushDown(Topic, Sub(9, Topic))));
        Assert.That(push.To, Is.AnyOf(H(1).Address, H(2).Address));

        var (passed, verdict) = budgeted.OnForward(Routed(Sub(9, Third), Third.Key), T0);
        Assert.That(verdict, Is.EqualTo(ForwardVerdict.Continue), "the subscribe continues along its route");
        Assert.That(passed.Effects, Is.Empty);
        Assert.That(passed.State.Describe(Third), Is.Null);

        // Without a budget (the default) the same node adopts and forwards.
        var unbudgeted = Loaded(ForestSettings.Default);
        Assert.That(unbudgeted.OnDeliver(Routed(Sub(9, Topic), Topic.Key), T0).State.Describe(Topic)!.FanOut, Is.EqualTo(3));
        Assert.That(unbudgeted.OnForward(Routed(Sub(9, Third), Third.Key), T0).Verdict, Is.TypeOf<ForwardVerdict.ReplaceVerdict>());
    }

    [Test]
    public void A_node_over_budget_still_adopts_up_to_its_loaded_fan_out_so_every_subscriber_attaches()
    {
        var state = Loaded(ForestSettings.Default with { ChildBudget = 4, LoadedFanOut = 3 });

        var step = state.OnDeliver(Routed(Sub(9, Topic), Topic.Key), T0);

        Assert.That(step.State.Describe(Topic)!.FanOut, Is.EqualTo(3));
        Assert.That(step.Effects.OfType<SendToPeer>().Single().Message, Is.TypeOf<SubscribeAccepted>());
    }

    [TestCase(-1, 4, 32)]
    [TestCase(8, 1, 32)]
    public void Invalid_budget_settings_are_rejected_naming_the_key(int budget, int loaded, int cap)
    {
        var settings = ForestSettings.Default with { ChildBudget = budget, LoadedFanOut = loaded, FanOutCap = cap };

        Assert.That(() => settings.Validated(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("totoro.forest."));
    }

    [Test]
    public void Twenty_topics_under_a_child_budget_spread_forwarding_and_still_fold_exactly_within_the_depth_bound()
    {
        const int nodes = 300;
        const int topicCount = 20;
        var topics = Enumerable.Range(0, topicCount).Select(i => TopicId.For("load" + i)).ToList();
        var random = new Random(7);
        var members = topics.ToDictionary(t => t, _ => Enumerable.Range(0, nodes).OrderBy(_ => random.Next()).Take(60).Order().ToList());

        int MostChildren(ForestSettings settings, bool check)
        {
            var world = ForestScenarioTests.Build(nodes, settings: settings, seed: 11);
            world.Contribution = (node, topic, round) => VectorSum.For(world.Ids[node], topic, round);
            for (var i = 0; i < 60; i++)
            {
                foreach (var topic in topics)
                {
                    world.Subscribe(members[topic][i], topic);
                }

                world.RunFor(TimeSpan.FromMilliseconds(200));
            }

            world.RunFor(TimeSpan.FromSeconds(10));
            var most = world.LiveNodes.Max(n => topics.Sum(t => world.Forest(n).Describe(t)?.FanOut ?? 0));
            TestContext.Out.WriteLine($"DIAG budget {settings.ChildBudget} loaded {settings.LoadedFanOut}: most {most}, depth max {topics.Max(t => world.WalkToRoot(t).Values.Max())}");
            if (check)
            {
                var bound = (int)Math.Ceiling(Math.Log(nodes, 16)) + 1;
                foreach (var topic in topics.Take(5))
                {
                    var depths = world.WalkToRoot(topic);
                    Assert.That(depths.Keys, Is.SupersetOf(members[topic]), $"{topic}: every subscriber attached");
                    Assert.That(depths.Values.Max(), Is.LessThanOrEqualTo(bound), $"{topic}: depth within ⌈log₁₆ N⌉ + 1");
                    Assert.That(world.MaxChildren(topic), Is.LessThanOrEqualTo(settings.FanOutCap));
                    ForestScenarioTests.AssertFlatSum(world, ForestScenarioTests.RunRound(world, topic, 1), topic, members[topic]);
                }
            }

            return most;
        }

        MostChildren(ForestSettings.Default with { ChildBudget = 12, LoadedFanOut = 32 }, check: false);
        MostChildren(ForestSettings.Default with { ChildBudget = 12, LoadedFanOut = 8 }, check: false);
        MostChildren(ForestSettings.Default with { ChildBudget = 24, LoadedFanOut = 4 }, check: false);
        var without = MostChildren(ForestSettings.Default, check: false);
        var with = MostChildren(ForestSettings.Default with { ChildBudget = 12 }, check: true);
        TestContext.Out.WriteLine($"most children one node keeps over {topicCount} topics: {without} without a budget, {with} with budget 12");
        Assert.That(with, Is.LessThan(without), "the budget spreads forwarding");
    }
}
