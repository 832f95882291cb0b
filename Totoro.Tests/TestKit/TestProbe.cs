using Totoro.Kernel;

namespace Totoro.Tests.TestKit;

/// <summary>
/// An actor that records what it receives, with expectations that wait on the system's clock: under a deterministic
/// world they run the world (virtual time) until the message arrives or the timeout passes; otherwise they block on
/// a bounded wait. Never sleeps.
/// </summary>
public sealed class TestProbe
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);

    private readonly Queue<(object Message, IActorRef? Sender)> _received = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _lock = new();

    public TestProbe(ActorSystem system, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        System = system;
        Ref = system.ActorOf(Props.Create(() => new ProbeActor(this)), name);
        System.World?.RunUntilIdle();
    }

    public ActorSystem System { get; }

    public IActorRef Ref { get; }

    public IActorRef? LastSender { get; private set; }

    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _received.Count;
            }
        }
    }

    public void Send(IActorRef target, object message)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, Ref);
    }

    public void Reply(object message) =>
        (LastSender ?? throw new InvalidOperationException("No message has been received yet")).Tell(message, Ref);

    public void Watch(IActorRef target)
    {
        Ref.Tell(new ProbeCommand(target, Watch: true));
        System.World?.RunUntilIdle();
    }

    public void Unwatch(IActorRef target)
    {
        Ref.Tell(new ProbeCommand(target, Watch: false));
        System.World?.RunUntilIdle();
    }

    public T ExpectMsg<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null)
    {
        var message = Receive(timeout ?? DefaultTimeout)
            ?? throw new AssertionException($"Timed out after {timeout ?? DefaultTimeout} waiting for {typeof(T).Name} at {Ref.Path}");
        if (message is not T typed)
        {
            throw new AssertionException($"Expected {typeof(T).Name} but received {message.GetType().Name}: {message}");
        }
        if (predicate is not null && !predicate(typed))
        {
            throw new AssertionException($"Received {typed} which does not satisfy the predicate");
        }
        return typed;
    }

    public T ExpectMsg<T>(T expected, TimeSpan? timeout = null)
        where T : notnull => ExpectMsg<T>(m => Equals(m, expected), timeout);

    /// <summary>Asserts that nothing arrives within <paramref name="duration"/> (virtual time under a world).</summary>
    public void ExpectNoMsg(TimeSpan duration)
    {
        if (Receive(duration) is { } message)
        {
            throw new AssertionException($"Expected no message but received {message.GetType().Name}: {message}");
        }
    }

    /// <summary>Skips messages until one satisfies <paramref name="predicate"/>.</summary>
    public T FishForMessage<T>(Func<T, bool> predicate, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var limit = timeout ?? DefaultTimeout;
        var start = System.Time.GetTimestamp();
        while (true)
        {
            var remaining = limit - System.Time.GetElapsedTime(start);
            var message = remaining > TimeSpan.Zero ? Receive(remaining) : null;
            if (message is null)
            {
                throw new AssertionException($"Timed out after {limit} fishing for {typeof(T).Name} at {Ref.Path}");
            }
            if (message is T typed && predicate(typed))
            {
                return typed;
            }
        }
    }

    public Terminated ExpectTerminated(IActorRef actor, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return ExpectMsg<Terminated>(t => t.ActorRef.Equals(actor), timeout);
    }

    private object? Receive(TimeSpan timeout)
    {
        if (System.World is { } world)
        {
            world.RunUntil(() => PendingCount > 0, timeout);
        }
        else if (!_signal.Wait(timeout))
        {
            return null;
        }
        lock (_lock)
        {
            if (_received.Count == 0)
            {
                return null;
            }
            var (message, sender) = _received.Dequeue();
            LastSender = sender;
            return message;
        }
    }

    private void Record(object message, IActorRef? sender)
    {
        lock (_lock)
        {
            _received.Enqueue((message, sender));
        }
        if (System.World is null)
        {
            _signal.Release();
        }
    }

    private sealed record ProbeCommand(IActorRef Target, bool Watch) : ILocalMessage;

    private sealed class ProbeActor : ReceiveActor
    {
        public ProbeActor(TestProbe probe)
        {
            Receive<ProbeCommand>(command =>
            {
                if (command.Watch)
                {
                    Context.Watch(command.Target);
                }
                else
                {
                    Context.Unwatch(command.Target);
                }
            });
            ReceiveAny(message => probe.Record(message, Sender));
        }
    }
}
