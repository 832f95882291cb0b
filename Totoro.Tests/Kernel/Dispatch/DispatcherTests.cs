using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Dispatch;

public sealed class DispatcherTests
{
    private sealed record WhereAreYou;

    private sealed record Answer(string? ThreadName, int ThreadId, int Count);

    /// <summary>The same actor code for all three dispatchers.</summary>
    private sealed class Counter : ReceiveActor
    {
        private int _count;

        public Counter()
        {
            Receive<int>(n => _count += n);
            Receive<WhereAreYou>(_ => Sender!.Tell(new Answer(Thread.CurrentThread.Name, Environment.CurrentManagedThreadId, _count)));
        }
    }

    [Test]
    public async Task A_dedicated_dispatcher_runs_its_actors_on_its_own_threads()
    {
        using var training = new DedicatedThreadDispatcher("training", threadCount: 2);
        var system = ActorSystem.Create("test", new ActorSystemSettings
        {
            Dispatchers = new Dictionary<string, Dispatcher> { ["training"] = training },
        });
        var actor = system.ActorOf(Props.Create<Counter>().WithDispatcher("training"));
        for (var i = 1; i <= 100; i++)
        {
            actor.Tell(i);
        }
        var answer = await actor.Ask<Answer>(new WhereAreYou(), TimeSpan.FromSeconds(10), system).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        Assert.That(answer.ThreadName, Does.StartWith("training-"));
        Assert.That(answer.Count, Is.EqualTo(5050));
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    [Test]
    public async Task The_thread_pool_dispatcher_runs_the_same_actor()
    {
        var system = Worlds.ThreadPool();
        var actor = system.ActorOf(Props.Create<Counter>());
        for (var i = 1; i <= 100; i++)
        {
            actor.Tell(i);
        }
        var answer = await actor.Ask<Answer>(new WhereAreYou(), TimeSpan.FromSeconds(10), system).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        Assert.That(answer.Count, Is.EqualTo(5050));
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    [Test]
    public void Under_a_world_a_named_dispatcher_maps_to_the_world_thread()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        var actor = system.ActorOf(Props.Create<Counter>().WithDispatcher("training"));
        actor.Tell(7);
        probe.Send(actor, new WhereAreYou());
        var answer = probe.ExpectMsg<Answer>();
        Assert.That(answer.ThreadId, Is.EqualTo(Environment.CurrentManagedThreadId));
        Assert.That(answer.Count, Is.EqualTo(7));
    }
}
