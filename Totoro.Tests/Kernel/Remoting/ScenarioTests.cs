using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Remoting;

public sealed class ScenarioTests
{
    private sealed record Gossip(string Text);

    /// <summary>Each node counts what it hears and forwards gossip to its peers once.</summary>
    private sealed class Peer : ReceiveActor
    {
        private readonly HashSet<string> _seen = [];
        private IActorRef[] _peers = [];

        public Peer()
        {
            Receive<Peers>(peers => _peers = peers.Refs);
            Receive<Ping>(p =>
            {
                if (_seen.Add(p.Text))
                {
                    foreach (var peer in _peers)
                    {
                        peer.Tell(p, Self);
                    }
                }
            });
            Receive<string>(s => s == "seen", _ => Sender!.Tell(new Ping(_seen.Count, string.Join(",", _seen.Order(StringComparer.Ordinal)))));
        }
    }

    [Test]
    public void Three_nodes_partitioned_then_healed_converge_only_after_the_heal()
    {
        var scenario = Scenario.Create(nodes: 3, seed: 42, linkModel: new SimulatedLinkModel(new LinkProfile(TimeSpan.FromMilliseconds(20))));
        var peers = Enumerable.Range(0, 3).Select(i => scenario[i].ActorOf(Props.Create<Peer>(), "peer")).ToArray();
        for (var i = 0; i < 3; i++)
        {
            peers[i].Tell(new Peers([.. peers.Where((_, j) => j != i).Select(p => scenario.RefOn(i, p))]));
        }
        scenario.RunUntilIdle();

        scenario.Partition([0, 1], [2]);
        peers[0].Tell(new Ping(0, "a"));
        peers[2].Tell(new Ping(0, "b"));
        scenario.Advance(TimeSpan.FromSeconds(1));
        Assert.That(Seen(scenario, 0, peers[0]), Is.EqualTo("a"));
        Assert.That(Seen(scenario, 1, peers[1]), Is.EqualTo("a"));
        Assert.That(Seen(scenario, 2, peers[2]), Is.EqualTo("b"));

        scenario.Heal();
        peers[1].Tell(new Ping(0, "c"));
        peers[2].Tell(new Ping(0, "a"));
        peers[0].Tell(new Ping(0, "b"));
        scenario.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
        {
            Assert.That(Seen(scenario, i, peers[i]), Is.EqualTo("a,b,c"), $"node {i}");
        }
    }

    private static string Seen(Scenario scenario, int node, IActorRef peer) =>
        scenario.Await(peer.Ask<Ping>("seen", TimeSpan.FromSeconds(1), scenario[node])).Text;
}
