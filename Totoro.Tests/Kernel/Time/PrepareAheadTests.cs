using System.Collections.Concurrent;
using Totoro.Kernel;

namespace Totoro.Tests.Kernel.Time;

/// <summary>
/// <see cref="IPrepareAhead"/>: a world with a prepare window hands the tells due within it to their actors'
/// <c>Prepare</c> (in parallel, one per actor) before delivering them in the usual order. These pin that the order,
/// the times and the step count do not change, which tells get prepared, and that a preparation made stale by an
/// earlier step is not used.
/// </summary>
public sealed class PrepareAheadTests
{
    [Test]
    public void Deliveries_keep_their_order_times_and_steps_with_any_window()
    {
        var plain = Run(TimeSpan.Zero, out var plainSteps, out var plainPrepared);
        var prepared = Run(TimeSpan.FromMilliseconds(5), out var preparedSteps, out var preparedCount);
        var wide = Run(TimeSpan.FromSeconds(10), out var wideSteps, out _);

        Assert.That(plainPrepared, Is.Zero, "no window, no preparation");
        Assert.That(preparedCount, Is.Positive, "the window batched tells and prepared them");
        Assert.That(prepared, Is.EqualTo(plain), "same deliveries, same order, same virtual times, same results");
        Assert.That(wide, Is.EqualTo(plain));
        Assert.That(preparedSteps, Is.EqualTo(plainSteps));
        Assert.That(wideSteps, Is.EqualTo(plainSteps));
    }

    [Test]
    public void Only_the_first_tell_to_an_actor_in_a_batch_is_prepared_and_a_stale_preparation_is_recomputed()
    {
        var world = new DeterministicWorld(3) { PrepareWindow = TimeSpan.FromSeconds(1), PrepareMinimum = 1, PrepareParallelism = 1 }; // no crew: which tell gets prepared is then fixed
        var system = ActorSystem.Create("stale", new ActorSystemSettings { World = world });
        var log = new ConcurrentQueue<string>();
        var counter = system.ActorOf(Props.Create(() => new Counter("c", log)));
        world.RunUntilIdle();

        // Both due within one window: "add 1" is prepared against total 0; "add 2" is not (it depends on the first).
        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromMilliseconds(10), counter, 1);
        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromMilliseconds(20), counter, 2);
        world.Advance(TimeSpan.FromSeconds(1));

        Assert.That(world.StepsPrepared, Is.EqualTo(1));
        Assert.That(log.Select(WithoutTime), Is.EqualTo(new[] { "c prepared 1 on 0", "c 1 -> 1 (prepared)", "c 2 -> 3 (computed)" }));

        // A preparation made against total 3, then a message due earlier (scheduled after the batch was staged, with
        // no delay) changes the total first: the prepared step is stale and the delivery recomputes.
        log.Clear();
        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromMilliseconds(30), counter, 10);
        system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromMilliseconds(10), system.ActorOf(Props.Create(() => new Forwarder(counter, 100))), "go");
        world.Advance(TimeSpan.FromSeconds(1));

        Assert.That(log.Select(WithoutTime), Is.EqualTo(new[] { "c prepared 10 on 3", "c 100 -> 103 (computed)", "c 10 -> 113 (computed)" }),
            "prepared against 3, but 100 arrived first: the preparation is dropped and both steps are computed");
    }

    private static string WithoutTime(string line) => line.Split(" at ")[0];

    private static List<string> Run(TimeSpan window, out long steps, out long prepared)
    {
        var world = new DeterministicWorld(7) { PrepareWindow = window, PrepareMinimum = 1 };
        var system = ActorSystem.Create("prepare", new ActorSystemSettings { World = world });
        var log = new ConcurrentQueue<string>();
        var actors = Enumerable.Range(0, 8).Select(i => system.ActorOf(Props.Create(() => new Counter($"a{i}", log)))).ToArray();
        world.RunUntilIdle();
        var random = new Random(11);
        for (var i = 0; i < 400; i++)
        {
            system.Scheduler.ScheduleTellOnceUncancellable(TimeSpan.FromMilliseconds(random.Next(0, 2000)), actors[random.Next(actors.Length)], random.Next(1, 10));
        }

        var before = world.StepsExecuted;
        world.Advance(TimeSpan.FromSeconds(3));
        steps = world.StepsExecuted - before;
        prepared = world.StepsPrepared;
        // What was computed where differs; what was delivered, when and with which result does not.
        return [.. log.Where(line => !line.Contains("prepared ", StringComparison.Ordinal)).Select(line => line.Replace(" (prepared)", "", StringComparison.Ordinal).Replace(" (computed)", "", StringComparison.Ordinal))];
    }

    /// <summary>
    /// Adds each number to a total; the addition is its pure step, prepared ahead when the world offers. Follows the
    /// contract: the state is one immutable value read once, the preparation one object published and taken with
    /// compare-and-swap (a preparation may run while an earlier message is handled).
    /// </summary>
    private sealed class Counter(string name, ConcurrentQueue<string> log) : UntypedActor, IPrepareAhead
    {
        private Total _total = new(0);
        private Preparation? _prepared;

        public void Prepare(object message, long timestamp)
        {
            if (message is int add && Volatile.Read(ref _prepared) is null)
            {
                var total = Volatile.Read(ref _total);
                log.Enqueue($"{name} prepared {add} on {total.Value}");
                Interlocked.CompareExchange(ref _prepared, new Preparation(message, total, new Total(total.Value + add)), null);
            }
        }

        protected override void OnReceive(object message)
        {
            var add = (int)message;
            var prepared = Volatile.Read(ref _prepared);
            if (prepared is not null)
            {
                Interlocked.CompareExchange(ref _prepared, null, prepared);
            }

            var usable = prepared is not null && ReferenceEquals(prepared.Message, message) && ReferenceEquals(prepared.Base, _total);
            _total = usable ? prepared!.Result : new Total(_total.Value + add);
            log.Enqueue($"{name} {add} -> {_total.Value} ({(usable ? "prepared" : "computed")}) at {Context.Time.GetTimestamp()}");
        }

        private sealed record Total(int Value);

        private sealed record Preparation(object Message, Total Base, Total Result);
    }

    private sealed class Forwarder(IActorRef target, int value) : UntypedActor
    {
        protected override void OnReceive(object message) => target.Tell(value, Self);
    }
}
