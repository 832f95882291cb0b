using System.Diagnostics;
using Totoro.Kernel;

namespace Totoro.Node.Cli;

/// <summary>
/// The measurements behind <c>totoro bench kernel</c>. Each returns one run's figure; the command takes medians.
/// Sizes are parameters so the test suite can run the same code path tiny.
/// </summary>
internal static class KernelBenchmarks
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    /// <summary>Tells per second from <paramref name="pairs"/> senders, each to its own receiver, on the thread pool.</summary>
    public static async Task<double> TellsPerSecond(int pairs, long messagesPerPair)
    {
        var system = ActorSystem.Create("bench");
        try
        {
            var done = new CountdownEvent(pairs);
            var receivers = Enumerable.Range(0, pairs)
                .Select(_ => system.ActorOf(Props.Create(() => new CountingReceiver(messagesPerPair, done))))
                .ToArray();
            var senders = receivers.Select(r => system.ActorOf(Props.Create(() => new BurstSender(r, messagesPerPair)))).ToArray();
            var start = Stopwatch.GetTimestamp();
            foreach (var sender in senders)
            {
                sender.Tell(Go.Instance);
            }
            await WaitAsync(done).ConfigureAwait(false);
            return pairs * messagesPerPair / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        finally
        {
            await system.Terminate().WaitAsync(Patience).ConfigureAwait(false);
        }
    }

    /// <summary>Round trips per second: <paramref name="pairs"/> pairs each bouncing one message <paramref name="roundTrips"/> times.</summary>
    public static async Task<double> PingPongRoundTripsPerSecond(int pairs, int roundTrips)
    {
        var system = ActorSystem.Create("bench");
        try
        {
            var done = new CountdownEvent(pairs);
            var pongs = Enumerable.Range(0, pairs).Select(_ => system.ActorOf(Props.Create(() => new Ponger()))).ToArray();
            var pings = pongs.Select(p => system.ActorOf(Props.Create(() => new Pinger(p, roundTrips, done)))).ToArray();
            var start = Stopwatch.GetTimestamp();
            foreach (var ping in pings)
            {
                ping.Tell(Go.Instance);
            }
            await WaitAsync(done).ConfigureAwait(false);
            return (double)pairs * roundTrips / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        finally
        {
            await system.Terminate().WaitAsync(Patience).ConfigureAwait(false);
        }
    }

    /// <summary>Creates <paramref name="count"/> idle actors on the thread pool and waits until every one has started.</summary>
    public static async Task<CreationResult> CreateActors(int count)
    {
        var system = ActorSystem.Create("bench");
        try
        {
            var started = new CountdownEvent(count);
            var props = Props.Create(() => new IdleActor(started));
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var start = Stopwatch.GetTimestamp();
            var refs = new IActorRef[count];
            for (var i = 0; i < count; i++)
            {
                refs[i] = system.ActorOf(props);
            }
            await WaitAsync(started).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(start);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var retained = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
            GC.KeepAlive(refs);
            return new CreationResult(elapsed.TotalSeconds, (double)retained / count, (double)allocated / count);
        }
        finally
        {
            await system.Terminate().WaitAsync(Patience).ConfigureAwait(false);
        }
    }

    /// <summary>Messages per second on the deterministic dispatcher: <paramref name="pairs"/> ping-pong pairs on one world.</summary>
    public static double DeterministicMessagesPerSecond(int pairs, int roundTrips)
    {
        var world = new DeterministicWorld(seed: 1);
        var system = ActorSystem.Create("bench", new ActorSystemSettings { World = world });
        var done = new CountdownEvent(pairs);
        var pongs = Enumerable.Range(0, pairs).Select(_ => system.ActorOf(Props.Create(() => new Ponger()))).ToArray();
        var pings = pongs.Select(p => system.ActorOf(Props.Create(() => new Pinger(p, roundTrips, done)))).ToArray();
        world.RunUntilIdle();
        foreach (var ping in pings)
        {
            ping.Tell(Go.Instance);
        }
        var stepsBefore = world.StepsExecuted;
        var start = Stopwatch.GetTimestamp();
        world.RunUntilIdle();
        var elapsed = Stopwatch.GetElapsedTime(start);
        if (!done.IsSet)
        {
            throw new InvalidOperationException("The deterministic ping-pong did not finish");
        }
        return (world.StepsExecuted - stepsBefore) / elapsed.TotalSeconds;
    }

    /// <summary>
    /// Creates <paramref name="count"/> nodes (an actor system with one actor each) on one deterministic world and
    /// in-memory transport in by-reference mode: the footprint a large overlay simulation pays per node.
    /// </summary>
    public static CreationResult CreateNodesOnOneWorld(int count)
    {
        var world = new DeterministicWorld(seed: 1);
        var transport = new InMemoryTransport(world, passByReference: true);
        var settings = new ActorSystemSettings
        {
            World = world,
            Transport = transport,
            Port = 1,
            Serialization = SerializerRegistry.CreateWithKernelMessages(),
        };
        var props = Props.Create(() => new IdleActor(null));
        GC.Collect();
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        var nodes = new ActorSystem[count];
        for (var i = 0; i < count; i++)
        {
            nodes[i] = ActorSystem.Create("sim", settings with { Host = "n" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            nodes[i].ActorOf(props, "node");
        }
        world.RunUntilIdle();
        var elapsed = Stopwatch.GetElapsedTime(start);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var retained = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        GC.KeepAlive(nodes);
        return new CreationResult(elapsed.TotalSeconds, (double)retained / count, (double)allocated / count);
    }

    private static async Task WaitAsync(CountdownEvent done)
    {
        using var cancel = new CancellationTokenSource(Patience);
        await Task.Run(() => done.Wait(cancel.Token), cancel.Token).ConfigureAwait(false);
    }

    internal sealed record CreationResult(double Seconds, double RetainedBytesPerActor, double AllocatedBytesPerActor);

    private sealed class Go
    {
        public static readonly Go Instance = new();
    }

    private sealed class Ball
    {
        public static readonly Ball Instance = new();
    }

    /// <summary>Sends in bursts, re-telling itself between bursts so the pool can run the receiver meanwhile.</summary>
    private sealed class BurstSender : ReceiveActor
    {
        private const int Burst = 2_000;

        public BurstSender(IActorRef receiver, long total)
        {
            var sent = 0L;
            Receive<Go>(_ =>
            {
                var end = Math.Min(total, sent + Burst);
                for (; sent < end; sent++)
                {
                    receiver.Tell(Ball.Instance);
                }
                if (sent < total)
                {
                    Self.Tell(Go.Instance);
                }
            });
        }
    }

    private sealed class CountingReceiver : ReceiveActor
    {
        public CountingReceiver(long expected, CountdownEvent done)
        {
            var count = 0L;
            Receive<Ball>(_ =>
            {
                if (++count == expected)
                {
                    done.Signal();
                }
            });
        }
    }

    private sealed class Ponger : ReceiveActor
    {
        public Ponger() => Receive<Ball>(ball => Sender!.Tell(ball, Self));
    }

    private sealed class Pinger : ReceiveActor
    {
        public Pinger(IActorRef ponger, int roundTrips, CountdownEvent done)
        {
            var remaining = roundTrips;
            Receive<Go>(_ => ponger.Tell(Ball.Instance, Self));
            Receive<Ball>(ball =>
            {
                if (--remaining == 0)
                {
                    done.Signal();
                }
                else
                {
                    ponger.Tell(ball, Self);
                }
            });
        }
    }

    private sealed class IdleActor : ReceiveActor
    {
        private readonly CountdownEvent? _started;

        public IdleActor(CountdownEvent? started)
        {
            _started = started;
            ReceiveAny(_ => { });
        }

        protected override void PreStart() => _started?.Signal();
    }
}
