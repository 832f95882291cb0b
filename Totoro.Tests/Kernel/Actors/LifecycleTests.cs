using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class LifecycleTests
{
    private sealed class Journaling(IActorRef journal, string name, int children = 0) : ReceiveActor
    {
        protected override void PreStart()
        {
            journal.Tell($"{name} start");
            for (var i = 0; i < children; i++)
            {
                var childName = $"{name}.{i}";
                Context.ActorOf(Props.Create(() => new Journaling(journal, childName)), $"c{i}");
            }
            ReceiveAny(m => journal.Tell($"{name} got {m}"));
        }

        protected override void PostStop() => journal.Tell($"{name} stop");
    }

    [Test]
    public void PreStart_runs_before_messages_and_children_stop_before_their_parent()
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var parent = system.ActorOf(Props.Create(() => new Journaling(journal.Ref, "p", children: 2)));
        parent.Tell("m");
        system.World!.RunUntilIdle();
        system.Stop(parent);
        var entries = Enumerable.Range(0, 7).Select(_ => journal.ExpectMsg<string>()).ToArray();
        Assert.That(entries[..4], Is.EquivalentTo(new[] { "p start", "p.0 start", "p.1 start", "p got m" }));
        Assert.That(entries[0], Is.EqualTo("p start"));
        Assert.That(entries[4..6], Is.EquivalentTo(new[] { "p.0 stop", "p.1 stop" }));
        Assert.That(entries[6], Is.EqualTo("p stop"));
    }

    [Test]
    public void A_stop_overtakes_queued_user_messages_which_become_dead_letters()
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var deadLetters = new TestProbe(system);
        system.EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
        var actor = system.ActorOf(Props.Create(() => new Journaling(journal.Ref, "a")));
        system.World!.RunUntilIdle();
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("a start"));
        actor.Tell(1);
        actor.Tell(2);
        system.Stop(actor);
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("a stop"));
        journal.ExpectNoMsg(TimeSpan.FromSeconds(1));
        Assert.That(deadLetters.ExpectMsg<DeadLetter>().Message, Is.EqualTo(1));
        Assert.That(deadLetters.ExpectMsg<DeadLetter>().Message, Is.EqualTo(2));
    }

    [Test]
    public async Task A_stop_overtakes_queued_user_messages_on_the_thread_pool()
    {
        var system = Worlds.ThreadPool();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = 0;
        var stopped = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = system.ActorOf(Props.Create(() => new Blocking(gate.Task, () => handled++, () => stopped.TrySetResult(handled))));
        actor.Tell("block");
        for (var i = 0; i < 100; i++)
        {
            actor.Tell("count");
        }
        system.Stop(actor);
        gate.SetResult();
        var handledAtStop = await Worlds.Within(stopped.Task).ConfigureAwait(false);
        Assert.That(handledAtStop, Is.EqualTo(0), "no queued user message ran after the stop was sent");
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    /// <summary>Its first message blocks its thread until the gate opens (test-only; product actors never block).</summary>
    private sealed class Blocking(Task gate, Action onCount, Action onStop) : ReceiveActor
    {
        protected override void PreStart()
        {
            Receive<string>(s => s == "block", _ => gate.Wait(TimeSpan.FromSeconds(10)));
            Receive<string>(s => s == "count", _ => onCount());
        }

        protected override void PostStop() => onStop();
    }

    [Test]
    public void A_poison_pill_stops_after_the_messages_ahead_of_it()
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var actor = system.ActorOf(Props.Create(() => new Journaling(journal.Ref, "a")));
        actor.Tell(1);
        actor.Tell(PoisonPill.Instance);
        actor.Tell(2);
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("a start"));
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("a got 1"));
        Assert.That(journal.ExpectMsg<string>(), Is.EqualTo("a stop"));
        journal.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Test]
    public void Watch_delivers_Terminated_and_Unwatch_cancels_it()
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var watcher = new TestProbe(system);
        var a = system.ActorOf(Props.Create(() => new Journaling(journal.Ref, "a")));
        var b = system.ActorOf(Props.Create(() => new Journaling(journal.Ref, "b")));
        watcher.Watch(a);
        watcher.Watch(b);
        watcher.Unwatch(b);
        system.Stop(a);
        system.Stop(b);
        var terminated = watcher.ExpectTerminated(a);
        Assert.That(terminated.AddressTerminated, Is.False);
        watcher.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Test]
    public void Watching_an_already_stopped_actor_delivers_Terminated_at_once()
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var a = system.ActorOf(Props.Create(() => new Journaling(journal.Ref, "a")));
        system.Stop(a);
        system.World!.RunUntilIdle();
        var watcher = new TestProbe(system);
        watcher.Watch(a);
        watcher.ExpectTerminated(a);
    }
}
