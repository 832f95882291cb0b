using Totoro.Kernel;
using Totoro.Tests.TestKit;
using Totoro.Transport.Tcp;

namespace Totoro.Tests.Transport.Tcp;

[TestFixture]
[NonParallelizable]
public sealed class TcpMultiNodeScenarios : MultiNodeScenarios
{
    protected override async Task<IMultiNodeCluster> StartAsync(int nodes)
    {
        var cluster = new TcpCluster(nodes);
        for (var i = 0; i < nodes; i++)
        {
            await cluster.StartNodeAsync(i, port: 0);
        }
        return cluster;
    }

    /// <summary>Real nodes in this process: each its own TCP endpoint on 127.0.0.1 and thread-pool actor system.</summary>
    internal sealed class TcpCluster(int count) : IMultiNodeCluster
    {
        private readonly ActorSystem?[] systems = new ActorSystem?[count];
        private readonly TcpActorTransport?[] transports = new TcpActorTransport?[count];
        private readonly Address[] addresses = new Address[count];

        public ActorSystem this[int node] => systems[node] ?? throw new InvalidOperationException($"Node {node} is stopped");

        public Address AddressOf(int node) => addresses[node];

        public TcpActorTransport TransportOf(int node) => transports[node] ?? throw new InvalidOperationException($"Node {node} is stopped");

        public async Task StartNodeAsync(int node, int port)
        {
            var settings = TcpTestKit.Settings($"node-{node}") with { BindPort = port, IdleTimeout = TimeSpan.FromSeconds(5) };
            var transport = new TcpActorTransport(settings, TestSerializers.Registry);
            var address = await transport.StartAsync().Within();
            transports[node] = transport;
            addresses[node] = address;
            systems[node] = ActorSystem.Create(address.System, new ActorSystemSettings
            {
                Host = address.Host,
                Port = address.Port,
                Transport = transport,
                Serialization = TestSerializers.Registry,
            });
        }

        public TestProbe CreateProbe(int node) => new(this[node]);

        public IActorRef RefOn(int from, IActorRef target) => this[from].Resolve(target.Path);

        public async Task StopNodeAsync(int node)
        {
            var system = this[node];
            var transport = TransportOf(node);
            systems[node] = null;
            transports[node] = null;
            await transport.StopAsync().Within();
            await system.Terminate().Within();
            await transport.DisposeAsync();
        }

        public async Task<ActorSystem> RestartNodeAsync(int node)
        {
            if (systems[node] is not null)
            {
                throw new InvalidOperationException($"Node {node} is running; stop it first");
            }
            await StartNodeAsync(node, addresses[node].Port);
            return this[node];
        }

        public async ValueTask DisposeAsync()
        {
            for (var i = 0; i < systems.Length; i++)
            {
                if (systems[i] is not null)
                {
                    await StopNodeAsync(i);
                }
            }
        }
    }
}
