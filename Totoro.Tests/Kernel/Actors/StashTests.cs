using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class StashTests
{
    private sealed class Gate : ReceiveActor
    {
        public Gate()
        {
            Receive<string>(s => s == "open", _ =>
            {
                Become(Open);
                Stash.UnstashAll();
            });
            ReceiveAny(_ => Stash.Stash());
        }

        private void Open() => Receive<int>(n => Sender!.Tell(n * 10));
    }

    [Test]
    public void Stashed_messages_come_back_in_order_before_later_ones_with_their_senders()
    {
        var system = Worlds.Deterministic();
        var a = new TestProbe(system);
        var b = new TestProbe(system);
        var gate = system.ActorOf(Props.Create<Gate>());
        a.Send(gate, 1);
        b.Send(gate, 2);
        a.Send(gate, 3);
        system.World!.RunUntilIdle();
        a.Send(gate, "open");
        b.Send(gate, 4);
        Assert.That(a.ExpectMsg<int>(), Is.EqualTo(10));
        Assert.That(a.ExpectMsg<int>(), Is.EqualTo(30));
        Assert.That(b.ExpectMsg<int>(), Is.EqualTo(20));
        Assert.That(b.ExpectMsg<int>(), Is.EqualTo(40));
    }

    [Test]
    public async Task Stash_works_the_same_on_the_thread_pool()
    {
        var system = Worlds.ThreadPool();
        var gate = system.ActorOf(Props.Create<Gate>());
        var early = Enumerable.Range(1, 50).Select(i => gate.Ask<int>(i, TimeSpan.FromSeconds(10), system)).ToArray();
        gate.Tell("open");
        var results = await Task.WhenAll(early).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        Assert.That(results, Is.EqualTo(Enumerable.Range(1, 50).Select(i => i * 10)));
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }
}
