using System.Collections.Concurrent;
using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

public sealed class DeliveryTests
{
    private sealed record Hit(int Sender, int Seq);

    /// <summary>Records arrival order and how many handlers ever ran at once.</summary>
    private sealed class Recorder(ConcurrentQueue<Hit> log, int expected, TaskCompletionSource<int> done) : ReceiveActor
    {
        private int _inside;
        private int _maxInside;
        private int _count;

        protected override void PreStart()
        {
            Receive<Hit>(hit =>
            {
                _maxInside = Math.Max(_maxInside, Interlocked.Increment(ref _inside));
                log.Enqueue(hit);
                Interlocked.Decrement(ref _inside);
                if (++_count == expected)
                {
                    done.TrySetResult(_maxInside);
                }
            });
        }
    }

    private sealed class Sender(IActorRef target, int id, int count) : ReceiveActor
    {
        protected override void PreStart()
        {
            for (var i = 0; i < count; i++)
            {
                target.Tell(new Hit(id, i), Self);
            }
        }
    }

    [Test]
    public async Task Thread_pool_keeps_per_sender_order_and_runs_one_message_at_a_time()
    {
        const int senders = 8;
        const int perSender = 5_000;
        var system = Worlds.ThreadPool();
        var log = new ConcurrentQueue<Hit>();
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = system.ActorOf(Props.Create(() => new Recorder(log, senders * perSender, done)));
        for (var s = 0; s < senders; s++)
        {
            var id = s;
            system.ActorOf(Props.Create(() => new Sender(recorder, id, perSender)));
        }
        var maxConcurrent = await Worlds.Within(done.Task).ConfigureAwait(false);
        Assert.That(maxConcurrent, Is.EqualTo(1));
        foreach (var group in log.GroupBy(h => h.Sender))
        {
            Assert.That(group.Select(h => h.Seq), Is.Ordered, $"sender {group.Key}");
            Assert.That(group.Count(), Is.EqualTo(perSender));
        }
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    private sealed class Bouncer(int rounds, CountdownEvent done) : ReceiveActor
    {
        private int _left = rounds;

        protected override void PreStart()
        {
            Receive<IActorRef>(partner => partner.Tell(0, Self));
            Receive<int>(n =>
            {
                if (--_left == 0)
                {
                    done.Signal();
                }
                if (_left >= 0)
                {
                    Sender!.Tell(n + 1, Self);
                }
            });
        }
    }

    /// <summary>Each hop takes a mailbox from idle to scheduled and back: a lost wake-up would stall a pair and time out.</summary>
    [Test]
    public async Task Ping_pong_over_many_pairs_never_loses_a_wake_up()
    {
        const int pairs = 32;
        var system = Worlds.ThreadPool();
        using var done = new CountdownEvent(pairs * 2);
        for (var i = 0; i < pairs; i++)
        {
            var a = system.ActorOf(Props.Create(() => new Bouncer(5_000, done)));
            var b = system.ActorOf(Props.Create(() => new Bouncer(5_000, done)));
            a.Tell(b);
        }
        var finished = await Task.Run(() => done.Wait(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
        Assert.That(finished, Is.True, $"{done.CurrentCount} actors still waiting");
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    [Test]
    public void Deterministic_world_delivers_in_send_order()
    {
        var system = Worlds.Deterministic();
        var log = new ConcurrentQueue<Hit>();
        var done = new TaskCompletionSource<int>();
        var recorder = system.ActorOf(Props.Create(() => new Recorder(log, 300, done)));
        for (var s = 0; s < 3; s++)
        {
            var id = s;
            system.ActorOf(Props.Create(() => new Sender(recorder, id, 100)));
        }
        system.World!.RunUntilIdle();
        Assert.That(done.Task.IsCompletedSuccessfully, Is.True);
        Assert.That(log.Select(h => (h.Sender, h.Seq)), Is.EqualTo(
            Enumerable.Range(0, 3).SelectMany(s => Enumerable.Range(0, 100).Select(i => (s, i)))));
    }

    [Test]
    public void Messages_to_a_stopped_actor_become_dead_letters()
    {
        var system = Worlds.Deterministic();
        var probe = new TestProbe(system);
        system.EventStream.Subscribe<DeadLetter>(probe.Ref);
        var target = system.ActorOf(Props.Create(() => new Recorder(new ConcurrentQueue<Hit>(), 1, new TaskCompletionSource<int>())));
        system.Stop(target);
        system.World!.RunUntilIdle();
        target.Tell(new Hit(1, 1));
        var dead = probe.ExpectMsg<DeadLetter>();
        Assert.That(dead.Message, Is.EqualTo(new Hit(1, 1)));
    }
}
