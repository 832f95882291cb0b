using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class TimerTests
{
    private sealed record Start(string Kind, TimeSpan Delay);

    private sealed record Tick(int N);

    private sealed class TimerActor(IActorRef journal) : ReceiveActor
    {
        protected override void PreStart()
        {
            Receive<Start>(s => s.Kind == "single", s => Timers.StartSingleTimer("t", new Tick(1), s.Delay));
            Receive<Start>(s => s.Kind == "periodic", s => Timers.StartPeriodicTimer("t", new Tick(2), s.Delay));
            Receive<Start>(s => s.Kind == "replace", s =>
            {
                Timers.StartSingleTimer("t", new Tick(1), s.Delay);
                Timers.StartSingleTimer("t", new Tick(3), s.Delay * 2);
            });
            Receive<string>(s => s == "cancel", _ => Timers.Cancel("t"));
            ReceiveAsync<string>(s => s == "busy-then-cancel", async _ =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2), Context.Time);
                Timers.Cancel("t");
            });
            Receive<string>(s => s == "active", _ => Sender!.Tell(Timers.IsTimerActive("t")));
            Receive<string>(s => s == "fail", _ => throw new InvalidOperationException("restart me"));
            Receive<Tick>(t => journal.Tell(t));
        }
    }

    private static (ActorSystem, TestProbe, IActorRef) Setup()
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var actor = system.ActorOf(Props.Create(() => new TimerActor(journal.Ref)));
        return (system, journal, actor);
    }

    [Test]
    public void A_single_timer_fires_once_after_its_delay_in_virtual_time()
    {
        var (system, journal, actor) = Setup();
        actor.Tell(new Start("single", TimeSpan.FromSeconds(10)));
        journal.ExpectNoMsg(TimeSpan.FromSeconds(9.99));
        journal.ExpectMsg(new Tick(1), TimeSpan.FromMilliseconds(20));
        journal.ExpectNoMsg(TimeSpan.FromSeconds(60));
        Assert.That(system.World!.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(70)));
    }

    [Test]
    public void A_periodic_timer_fires_every_interval_until_cancelled()
    {
        var (system, journal, actor) = Setup();
        actor.Tell(new Start("periodic", TimeSpan.FromSeconds(1)));
        for (var i = 0; i < 3; i++)
        {
            journal.ExpectMsg(new Tick(2), TimeSpan.FromSeconds(1.01));
        }
        actor.Tell("cancel");
        journal.ExpectNoMsg(TimeSpan.FromSeconds(5));
        Assert.That(system.World!.Elapsed, Is.LessThan(TimeSpan.FromSeconds(9)));
    }

    [Test]
    public void Starting_a_timer_with_the_same_key_replaces_the_old_one()
    {
        var (_, journal, actor) = Setup();
        actor.Tell(new Start("replace", TimeSpan.FromSeconds(1)));
        journal.ExpectMsg(new Tick(3), TimeSpan.FromSeconds(3));
        journal.ExpectNoMsg(TimeSpan.FromSeconds(5));
    }

    [Test]
    public void A_key_moved_from_a_periodic_to_a_single_timer_fires_only_the_single_one()
    {
        // Periodic firings carry a counted generation, world single timers their step's sequence number: the two
        // never match each other's pending entry.
        var (_, journal, actor) = Setup();
        actor.Tell(new Start("periodic", TimeSpan.FromSeconds(1)));
        journal.ExpectMsg(new Tick(2), TimeSpan.FromSeconds(1.01));
        actor.Tell(new Start("single", TimeSpan.FromSeconds(0.5)));
        journal.ExpectMsg(new Tick(1), TimeSpan.FromSeconds(0.51));
        journal.ExpectNoMsg(TimeSpan.FromSeconds(5));
        actor.Tell(new Start("periodic", TimeSpan.FromSeconds(1)));
        journal.ExpectMsg(new Tick(2), TimeSpan.FromSeconds(1.01));
        journal.ExpectMsg(new Tick(2), TimeSpan.FromSeconds(1.01));
    }

    [Test]
    public void A_timer_cancelled_after_its_message_was_queued_is_not_delivered()
    {
        var (system, journal, actor) = Setup();
        actor.Tell(new Start("single", TimeSpan.FromSeconds(1)));
        actor.Tell("busy-then-cancel");
        system.World!.Advance(TimeSpan.FromSeconds(1.5));
        Assert.That(system.World.PendingSteps, Is.GreaterThan(0), "the busy handler is still awaiting while the tick is queued");
        journal.ExpectNoMsg(TimeSpan.FromSeconds(5));
    }

    [Test]
    public void Timers_are_cancelled_when_the_actor_restarts_or_stops()
    {
        var (system, journal, actor) = Setup();
        var client = new TestProbe(system);
        actor.Tell(new Start("periodic", TimeSpan.FromSeconds(1)));
        actor.Tell("fail");
        client.Send(actor, "active");
        Assert.That(client.ExpectMsg<bool>(), Is.False);
        journal.ExpectNoMsg(TimeSpan.FromSeconds(5));
        actor.Tell(new Start("periodic", TimeSpan.FromSeconds(1)));
        system.Stop(actor);
        journal.ExpectNoMsg(TimeSpan.FromSeconds(5));
    }
    private sealed record StartMany(int Count);

    private sealed class ManyTimersActor(IActorRef journal) : ReceiveActor
    {
        protected override void PreStart()
        {
            // Keys 0..n-1 fire after n−key seconds (so in reverse key order); every third key is then cancelled, and
            // key 1 is restarted to fire first. Crosses the scheduler's switch from its small array to a dictionary.
            Receive<StartMany>(start =>
            {
                for (var key = 0; key < start.Count; key++)
                {
                    Timers.StartSingleTimer(key, new Tick(key), TimeSpan.FromSeconds(start.Count - key));
                }

                for (var key = 0; key < start.Count; key += 3)
                {
                    Timers.Cancel(key);
                }

                Timers.StartSingleTimer(1, new Tick(1), TimeSpan.FromMilliseconds(500));
            });
            Receive<Tick>(t => journal.Tell(t));
        }
    }

    [TestCase(5)]
    [TestCase(20)]
    public void Many_keys_on_one_actor_fire_cancel_and_restart_independently(int count)
    {
        var system = Worlds.Deterministic();
        var journal = new TestProbe(system);
        var actor = system.ActorOf(Props.Create(() => new ManyTimersActor(journal.Ref)));
        actor.Tell(new StartMany(count));
        journal.ExpectMsg(new Tick(1), TimeSpan.FromSeconds(0.6));
        var expected = Enumerable.Range(0, count).Where(key => key % 3 != 0 && key != 1).OrderByDescending(key => key);
        foreach (var key in expected)
        {
            journal.ExpectMsg(new Tick(key), TimeSpan.FromSeconds(2.01));
        }

        journal.ExpectNoMsg(TimeSpan.FromSeconds(count + 5));
    }
}
