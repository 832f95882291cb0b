using Totoro.Kernel;

namespace Totoro.Tests.TestKit;

/// <summary>
/// N in-memory nodes on one deterministic world: one thread, one virtual clock, one seeded random, one transport with
/// fault injection. By default every message, even a local one, goes through its serializer.
/// </summary>
public sealed class Scenario
{
    private readonly ActorSystem?[] _nodes;
    private readonly ActorSystemSettings[] _settings;

    private Scenario(int nodes, int seed, ILinkModel? linkModel, bool serializeAll, bool passByReference, SerializerRegistry? serialization)
    {
        World = new DeterministicWorld(seed);
        Transport = new InMemoryTransport(World, linkModel, passByReference);
        _nodes = new ActorSystem?[nodes];
        _settings = new ActorSystemSettings[nodes];
        for (var i = 0; i < nodes; i++)
        {
            _settings[i] = new ActorSystemSettings
            {
                Host = $"node-{i}",
                Port = 2552,
                World = World,
                Transport = Transport,
                Serialization = serialization ?? TestSerializers.Registry,
                SerializeAllMessages = serializeAll && !passByReference,
            };
            _nodes[i] = ActorSystem.Create("totoro", _settings[i]);
        }
        World.RunUntilIdle();
    }

    public DeterministicWorld World { get; }

    public InMemoryTransport Transport { get; }

    public int Count => _nodes.Length;

    public ActorSystem this[int node] => _nodes[node] ?? throw new InvalidOperationException($"Node {node} is crashed");

    public static Scenario Create(
        int nodes,
        int seed,
        ILinkModel? linkModel = null,
        bool serializeAll = true,
        bool passByReference = false,
        SerializerRegistry? serialization = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        return new Scenario(nodes, seed, linkModel, serializeAll, passByReference, serialization);
    }

    public Address AddressOf(int node) => new("totoro", $"node-{node}", 2552);

    public TestProbe CreateProbe(int node, string? name = null) => new(this[node], name);

    /// <summary>The ref on <paramref name="from"/> for a path on another node (resolved as a remote ref).</summary>
    public IActorRef RefOn(int from, IActorRef target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return this[from].Resolve(target.Path);
    }

    public void Partition(IEnumerable<int> sideA, IEnumerable<int> sideB) =>
        Transport.Partition(sideA.Select(AddressOf), sideB.Select(AddressOf));

    public void Heal() => Transport.Heal();

    public void Crash(int node)
    {
        Transport.Crash(AddressOf(node));
        _nodes[node] = null;
        World.RunUntilIdle();
    }

    /// <summary>Starts a fresh incarnation of a crashed node at the same address.</summary>
    public ActorSystem Restart(int node)
    {
        if (_nodes[node] is not null)
        {
            throw new InvalidOperationException($"Node {node} is running; crash it first");
        }
        var system = ActorSystem.Create("totoro", _settings[node]);
        _nodes[node] = system;
        World.RunUntilIdle();
        return system;
    }

    public long RunUntilIdle() => World.RunUntilIdle();

    public void Advance(TimeSpan duration) => World.Advance(duration);

    public bool RunUntil(Func<bool> condition, TimeSpan timeout) => World.RunUntil(condition, timeout);

    /// <summary>Runs the world until <paramref name="task"/> completes (or the virtual timeout passes) and returns its result.</summary>
    public T Await<T>(Task<T> task, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        World.RunUntil(() => task.IsCompleted, timeout ?? TestProbe.DefaultTimeout);
        return task.IsCompleted ? task.GetAwaiter().GetResult() : throw new AssertionException("The task did not complete in virtual time");
    }
}
