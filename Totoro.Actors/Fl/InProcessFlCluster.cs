using System.Collections.Immutable;
using Totoro.Actors.Sim;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// N nodes in one process on a deterministic world: every node an <see cref="ActorSystem"/> running the FL host,
/// links timed by the simulation's <see cref="NetworkModel"/> (distance latency, access-link queueing, loss),
/// device compute classes from the generated topology. Training is real; time is virtual. Messages pass by
/// reference and are charged their wire size, so bandwidth is accounted without serializing models.
/// </summary>
internal sealed class InProcessFlCluster
{
    private readonly DeterministicWorld _world;
    private readonly FlEngine[] _engines;

    private readonly NetworkModel _links;

    private InProcessFlCluster(DeterministicWorld world, NetworkTopology network, NetworkModel links, ImmutableArray<Address> addresses, FlEngine[] engines)
    {
        _world = world;
        _links = links;
        Network = network;
        Addresses = addresses;
        _engines = engines;
    }

    public NetworkTopology Network { get; }

    public ImmutableArray<Address> Addresses { get; }

    public TimeSpan Now => _world.Elapsed;

    /// <summary>What node <paramref name="node"/>'s uplink has carried since the cluster was created.</summary>
    public UplinkUsage Uplink(int node) => _links.Uplink(node);

    public static ImmutableArray<Address> AddressesFor(int nodes) =>
        [.. Enumerable.Range(0, nodes).Select(i => new Address("totoro", $"node-{i}", 2552))];

    /// <summary>
    /// Builds the world, the network, the nodes and their FL hosts; <paramref name="topology"/> places each app.
    /// <paramref name="cache"/> (experiments only) lets trainers reuse results computed once for identical inputs;
    /// <paramref name="settings"/> are every node's role settings (null: <see cref="FlSettings.Default"/>).
    /// </summary>
    public static InProcessFlCluster Create(
        NetworkTopology network, IFlTopology topology, FlDataCatalog catalog, int seed, ITrainingResultCache? cache = null, FlSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(catalog);
        var world = new DeterministicWorld(seed);
        var addresses = AddressesFor(network.Nodes.Length);
        var index = addresses.Select((a, i) => KeyValuePair.Create(a, i)).ToImmutableDictionary();
        var model = new NetworkModel(network, NetworkSettings.Default, seed);
        var links = new NetworkLinkModel(model, index);
        var transport = new InMemoryTransport(world, links, passByReference: true);
        var registry = SerializerRegistry.CreateWithKernelMessages();
        FlSerializers.Register(registry);
        var engines = new FlEngine[addresses.Length];
        for (int i = 0; i < addresses.Length; i++)
        {
            var system = ActorSystem.Create(addresses[i].System, new ActorSystemSettings
            {
                Host = addresses[i].Host,
                Port = addresses[i].Port,
                World = world,
                Transport = transport,
                Serialization = registry,
            });
            engines[i] = FlEngine.Start(system, new FlNodeOptions(topology, catalog, settings ?? FlSettings.Default, network.Nodes[i].FlopsPerSecond) { Cache = cache });
        }

        world.RunUntilIdle();
        return new InProcessFlCluster(world, network, model, addresses, engines);
    }

    /// <summary>Submits <paramref name="spec"/> through node <paramref name="node"/>'s engine (any node will do).</summary>
    public AppHandle Submit(int node, AppSpec spec)
    {
        var submission = _engines[node].SubmitAsync(spec);
        _world.RunUntilIdle();
        return submission.IsCompletedSuccessfully
            ? submission.Result
            : throw new InvalidOperationException($"submission of '{spec.Name}' did not complete on the world");
    }

    /// <summary>Runs the world for <paramref name="span"/> of virtual time.</summary>
    public void Advance(TimeSpan span) => _world.Advance(span);
}
