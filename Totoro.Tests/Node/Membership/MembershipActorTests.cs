using Totoro.Kernel;
using Totoro.Node.Hosting;
using Totoro.Node.Membership;
using Totoro.Tests.TestKit;
using Totoro.Transport.Tcp;

namespace Totoro.Tests.Node.Membership;

/// <summary>The membership actor on the deterministic in-memory world: virtual time, so absence can be asserted too.</summary>
public sealed class MembershipActorTests
{
    private static readonly TimeSpan HelloInterval = TimeSpan.FromSeconds(1);

    private static Scenario World(int nodes) =>
        Scenario.Create(nodes, seed: 11, serialization: NodeSerializers.Register(SerializerRegistry.CreateWithKernelMessages()));

    private static NodeAddress Endpoint(Scenario scenario, int node) => new(scenario.AddressOf(node).Host!, scenario.AddressOf(node).Port);

    private static IActorRef Start(Scenario scenario, int node, string cluster = "c", params int[] seeds)
    {
        var view = MembershipView.Create(Endpoint(scenario, node), seeds.Select(s => Endpoint(scenario, s)), scenario.World.Time.GetUtcNow());
        var actor = scenario[node].ActorOf(Props.Create(() => new MembershipActor(cluster, $"n{node}", "z", HelloInterval, view)), MembershipActor.Name);
        scenario.RunUntilIdle();
        return actor;
    }

    private static MembershipView View(Scenario scenario, int node, IActorRef membership) =>
        scenario.Await(membership.Ask<MembershipView>(GetMembers.Instance, TimeSpan.FromSeconds(1), scenario[node]));

    private static string[] UpNames(MembershipView view) => [.. view.Up.Select(m => m.Name).Order(StringComparer.Ordinal)];

    [Test]
    public void Three_nodes_that_know_only_the_seed_learn_each_other_from_it()
    {
        var scenario = World(3);
        var actors = new[] { Start(scenario, 0), Start(scenario, 1, seeds: 0), Start(scenario, 2, seeds: 0) };
        scenario.Advance(TimeSpan.FromSeconds(3));
        Assert.That(UpNames(View(scenario, 0, actors[0])), Is.EqualTo(new[] { "n1", "n2" }));
        Assert.That(UpNames(View(scenario, 1, actors[1])), Is.EqualTo(new[] { "n0", "n2" }));
        Assert.That(UpNames(View(scenario, 2, actors[2])), Is.EqualTo(new[] { "n0", "n1" }));
    }

    [Test]
    public void A_node_of_another_cluster_is_never_counted()
    {
        var scenario = World(2);
        var seed = Start(scenario, 0, cluster: "c");
        var stranger = Start(scenario, 1, cluster: "other", seeds: 0);
        scenario.Advance(TimeSpan.FromSeconds(10));
        Assert.That(View(scenario, 0, seed).Members, Is.Empty);
        Assert.That(View(scenario, 1, stranger).Members[Endpoint(scenario, 0)].Status, Is.EqualTo(MemberStatus.Joining));
    }

    [Test]
    public void A_crashed_peer_goes_down_and_comes_back_up_when_restarted()
    {
        var scenario = World(2);
        var seed = Start(scenario, 0);
        Start(scenario, 1, seeds: 0);
        scenario.Advance(TimeSpan.FromSeconds(2));
        Assert.That(UpNames(View(scenario, 0, seed)), Is.EqualTo(new[] { "n1" }));

        scenario.Crash(1);
        Assert.That(View(scenario, 0, seed).Members[Endpoint(scenario, 1)].Status, Is.EqualTo(MemberStatus.Down));

        scenario.Restart(1);
        Start(scenario, 1, seeds: 0);
        scenario.Advance(TimeSpan.FromSeconds(3));
        Assert.That(View(scenario, 0, seed).Members[Endpoint(scenario, 1)].Status, Is.EqualTo(MemberStatus.Up));
    }

    [Test]
    public void Every_change_of_view_is_published_on_the_event_stream()
    {
        var scenario = World(2);
        var views = scenario.CreateProbe(0);
        scenario[0].EventStream.Subscribe<MembershipView>(views.Ref);
        Start(scenario, 0);
        Start(scenario, 1, seeds: 0);
        var published = views.ExpectMsg<MembershipView>();
        Assert.That(UpNames(published), Is.EqualTo(new[] { "n1" }));
        views.ExpectNoMsg(TimeSpan.FromSeconds(5));
    }
}
