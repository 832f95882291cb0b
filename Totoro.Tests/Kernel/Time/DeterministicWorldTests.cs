using Totoro.Kernel;

namespace Totoro.Tests.Kernel.Time;

public sealed class DeterministicWorldTests
{
    [Test]
    public void RunUntilIdle_runs_what_is_due_now_without_moving_the_clock()
    {
        var world = new DeterministicWorld(1);
        var fired = new List<string>();
        world.Schedule(TimeSpan.Zero, _ => fired.Add("now"), null);
        world.Schedule(TimeSpan.FromSeconds(1), _ => fired.Add("later"), null);
        world.RunUntilIdle();
        Assert.That(fired, Is.EqualTo(new[] { "now" }));
        Assert.That(world.Elapsed, Is.EqualTo(TimeSpan.Zero));
        Assert.That(world.PendingSteps, Is.EqualTo(1));
    }

    [Test]
    public void Steps_run_in_virtual_time_order_then_in_scheduling_order()
    {
        var world = new DeterministicWorld(1);
        var fired = new List<(string, TimeSpan)>();
        world.Schedule(TimeSpan.FromSeconds(2), _ => fired.Add(("b", world.Elapsed)), null);
        world.Schedule(TimeSpan.FromSeconds(1), _ =>
        {
            fired.Add(("a", world.Elapsed));
            world.Schedule(TimeSpan.FromSeconds(1), _ => fired.Add(("c", world.Elapsed)), null);
        }, null);
        world.Advance(TimeSpan.FromSeconds(10));
        Assert.That(fired, Is.EqualTo(new[] { ("a", TimeSpan.FromSeconds(1)), ("b", TimeSpan.FromSeconds(2)), ("c", TimeSpan.FromSeconds(2)) }));
        Assert.That(world.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void RunUntil_stops_at_the_condition_or_at_the_deadline()
    {
        var world = new DeterministicWorld(1);
        var count = 0;
        using var timer = world.Time.CreateTimer(_ => count++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.That(world.RunUntil(() => count == 3, TimeSpan.FromMinutes(1)), Is.True);
        Assert.That(world.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(world.RunUntil(() => count == 100, TimeSpan.FromSeconds(5)), Is.False);
        Assert.That(world.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(8)));
        Assert.That(count, Is.EqualTo(8));
    }

    [Test]
    public void The_virtual_clock_drives_TimeProvider_timers_and_delays()
    {
        var world = new DeterministicWorld(1);
        var start = world.Time.GetUtcNow();
        var delay = Task.Delay(TimeSpan.FromHours(1), world.Time);
        world.Advance(TimeSpan.FromMinutes(59));
        Assert.That(delay.IsCompleted, Is.False);
        world.Advance(TimeSpan.FromMinutes(1));
        Assert.That(delay.IsCompleted, Is.True);
        Assert.That(world.Time.GetUtcNow() - start, Is.EqualTo(TimeSpan.FromHours(1)));
    }
}
