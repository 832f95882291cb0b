using System.Security.Cryptography;
using System.Text;
using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Remoting;

public sealed class DeterminismTests
{
    /// <summary>Forwards each ping to a randomly chosen peer after a random delay, until the hop budget runs out.</summary>
    private sealed class Hopper : ReceiveActor
    {
        private IActorRef[] _peers = [];
        private long _timerKey;

        public Hopper()
        {
            Receive<Peers>(peers => _peers = peers.Refs);
            Receive<Ping>(OnPing);
            Receive<Forward>(f => f.To.Tell(f.Ping, Self));
        }

        private void OnPing(Ping ping)
        {
            if (ping.Seq <= 0 || _peers.Length == 0)
            {
                return;
            }
            var next = _peers[Context.Random.Next(_peers.Length)];
            var delay = TimeSpan.FromMilliseconds(Context.Random.Next(1, 50));
            Timers.StartSingleTimer(++_timerKey, new Forward(next, ping with { Seq = ping.Seq - 1 }), delay);
        }

        private sealed record Forward(IActorRef To, Ping Ping) : ILocalMessage;
    }

    private static string Trace(int seed)
    {
        var links = new SimulatedLinkModel(new LinkProfile(TimeSpan.FromMilliseconds(10), Jitter: TimeSpan.FromMilliseconds(30), DropProbability: 0.05));
        var scenario = Scenario.Create(nodes: 5, seed: seed, linkModel: links);
        var trace = new StringBuilder();
        scenario.Transport.OnDelivered = d => trace.Append(d.At.Ticks).Append(' ')
            .Append(d.From.Host).Append("->").Append(d.To.Host).Append(' ')
            .Append(d.Envelope.Manifest).Append(' ')
            .Append(Convert.ToHexString(SHA256.HashData(d.Envelope.Payload.Span), 0, 8)).Append('\n');
        var hoppers = Enumerable.Range(0, 5).Select(i => scenario[i].ActorOf(Props.Create<Hopper>(), "hopper")).ToArray();
        for (var i = 0; i < 5; i++)
        {
            hoppers[i].Tell(new Peers([.. hoppers.Where((_, j) => j != i).Select(h => scenario.RefOn(i, h))]));
        }
        for (var i = 0; i < 20; i++)
        {
            hoppers[i % 5].Tell(new Ping(30, $"p{i}"));
        }
        scenario.Advance(TimeSpan.FromMinutes(1));
        Assert.That(scenario.Transport.Delivered, Is.GreaterThan(100), "the workload must actually cross nodes");
        return trace.ToString();
    }

    [Test]
    public void The_same_seed_gives_the_same_message_trace_byte_for_byte()
    {
        Assert.That(Trace(1234), Is.EqualTo(Trace(1234)));
    }

    [Test]
    public void A_different_seed_gives_a_different_trace()
    {
        Assert.That(Trace(1234), Is.Not.EqualTo(Trace(4321)));
    }
}
