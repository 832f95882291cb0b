using Totoro.Kernel;

namespace Totoro.Tests.Kernel.Time;

/// <summary>
/// A scheduled tell to a world actor is delivered in the tell's own step when nothing else is due (see
/// DeterministicWorld.TellNow); these pin that the order and the step count are those of a tell step followed by
/// a delivery step.
/// </summary>
public sealed class ScheduledTellTests
{
    [Test]
    public void A_step_due_at_the_same_time_runs_between_the_tell_and_its_delivery()
    {
        var world = new DeterministicWorld(1);
        var system = ActorSystem.Create("tells", new ActorSystemSettings { World = world });
        var log = new List<string>();
        var actor = system.ActorOf(Props.Create(() => new Recorder(log)));
        world.RunUntilIdle();

        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromSeconds(1), actor, "first");
        world.Schedule(TimeSpan.FromSeconds(1), _ => log.Add("callback"), null);
        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromSeconds(2), actor, "alone");
        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromSeconds(3), actor, "a");
        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromSeconds(3), actor, "b");
        var steps = world.StepsExecuted;
        world.Advance(TimeSpan.FromSeconds(5));

        // The callback was scheduled after the first tell but before its delivery was queued: it runs first. Two
        // tells due together: both tell steps, then both deliveries in order.
        Assert.That(log, Is.EqualTo(new[] { "callback", "first", "alone", "a", "b" }));
        Assert.That(world.StepsExecuted - steps, Is.EqualTo(9), "four tell steps, four deliveries, one callback");
    }

    [Test]
    public void A_tell_to_a_stopped_actor_goes_to_dead_letters_without_a_delivery_step()
    {
        var world = new DeterministicWorld(1);
        var system = ActorSystem.Create("dead", new ActorSystemSettings { World = world });
        var actor = system.ActorOf(Props.Create(() => new Recorder([])));
        var dead = new List<object>();
        var watcher = system.ActorOf(Props.Create(() => new DeadLetterRecorder(dead)));
        world.RunUntilIdle();
        system.Stop(actor);
        world.RunUntilIdle();

        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromSeconds(1), actor, "late");
        var steps = world.StepsExecuted;
        world.Advance(TimeSpan.FromSeconds(2));

        Assert.That(dead, Has.Member("late"));
        Assert.That(world.StepsExecuted - steps, Is.EqualTo(2), "the tell step, then the dead letter's delivery to its subscriber");
    }

    private sealed class Recorder(List<string> log) : UntypedActor
    {
        protected override void OnReceive(object message) => log.Add((string)message);
    }

    private sealed class DeadLetterRecorder(List<object> dead) : UntypedActor
    {
        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DeadLetter));

        protected override void OnReceive(object message)
        {
            if (message is DeadLetter letter)
            {
                dead.Add(letter.Message);
            }
        }
    }
}
