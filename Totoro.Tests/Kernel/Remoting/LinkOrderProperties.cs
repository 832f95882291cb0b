using FsProperty = FsCheck.NUnit.PropertyAttribute;
using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Remoting;

public sealed class LinkOrderProperties
{
    /// <summary>Whatever the seed, jitter and drop rate, what arrives on a link arrives in send order.</summary>
    [FsProperty(MaxTest = 40)]
    public bool Per_link_order_survives_any_jitter_and_drops(int seed, byte jitterMs, byte dropPercent, byte count)
    {
        var links = new SimulatedLinkModel(new LinkProfile(
            TimeSpan.FromMilliseconds(5),
            Jitter: TimeSpan.FromMilliseconds(jitterMs),
            DropProbability: dropPercent % 50 / 100.0));
        var scenario = Scenario.Create(nodes: 2, seed: seed, linkModel: links);
        var echo = scenario[1].ActorOf(Props.Create<InMemoryTransportTests.Echo>(), "echo");
        var probe = scenario.CreateProbe(0);
        var remote = scenario.RefOn(0, echo);
        for (var i = 0; i < count; i++)
        {
            probe.Send(remote, new Ping(i));
        }
        scenario.Advance(TimeSpan.FromSeconds(2));
        var received = new List<long>();
        while (probe.PendingCount > 0)
        {
            received.Add(probe.ExpectMsg<Ping>().Seq);
        }
        return received.SequenceEqual(received.Order()) && received.Distinct().Count() == received.Count && received.Count <= count;
    }
}
