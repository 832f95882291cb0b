using System.Text;
using Totoro.Kernel;
using Totoro.Node.Hosting;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Ops;

/// <summary>
/// The client side of the ops shell: a throw-away actor system on an ephemeral 127.0.0.1 port with the TCP transport,
/// authenticated by the cluster secret at the handshake like any node, asking the node's <c>/user/ops</c> actor.
/// A node that cannot be reached (refused, wrong secret, timeout) fails the request at once with a clear message.
/// </summary>
internal sealed class OpsClient : IAsyncDisposable
{
    private readonly TcpActorTransport transport;
    private readonly ActorSystem system;
    private readonly IActorRef ops;
    private readonly NodeAddress target;
    private readonly string token;
    private readonly TimeSpan timeout;
    private readonly TaskCompletionSource unreachable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OpsClient(TcpActorTransport transport, ActorSystem system, NodeAddress target, string token, TimeSpan timeout)
    {
        this.transport = transport;
        this.system = system;
        this.target = target;
        this.token = token;
        this.timeout = timeout;
        ops = system.Resolve($"{new Address("totoro", target.Host, target.Port)}/user/{OpsActor.Name}");
        transport.PeerReachabilityChanged += (peer, up) =>
        {
            if (peer == target && !up)
            {
                unreachable.TrySetResult();
            }
        };
    }

    public NodeAddress Target => target;

    /// <summary>The palettes the node serves, fetched once on connect.</summary>
    public IReadOnlyList<PaletteDescription> Palettes { get; private set; } = [];

    public static async Task<OpsClient> ConnectAsync(NodeAddress target, string secret, string token, TimeSpan timeout, TimeProvider time)
    {
        var registry = NodeSerializers.Register(SerializerRegistry.CreateWithKernelMessages());
        var settings = new TcpTransportSettings
        {
            NodeId = "ops-client",
            Incarnation = Math.Max(1, time.GetUtcNow().ToUnixTimeMilliseconds()),
            ClusterSecret = Encoding.UTF8.GetBytes(secret),
            BindHost = "127.0.0.1",
            ReconnectBackoffMax = TimeSpan.FromSeconds(1),
        };
        var transport = new TcpActorTransport(settings, registry, new TcpActorTransportOptions { SystemName = "ops-client" }, time);
        var address = await transport.StartAsync().ConfigureAwait(false);
        var system = ActorSystem.Create(address.System, new ActorSystemSettings
        {
            Host = address.Host,
            Port = address.Port,
            Transport = transport,
            Serialization = registry,
            Time = time,
        });
        var client = new OpsClient(transport, system, target, token, timeout);
        var described = await client.RequestAsync("", "", []).ConfigureAwait(false);
        if (described.Error.Length > 0)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw new OpsClientException(described.Error);
        }
        client.Palettes = OpsJson.ReadDescriptions(described.Json);
        return client;
    }

    /// <summary>Runs one command on the node; errors from the node come back in <see cref="OpsReply.Error"/>.</summary>
    public async Task<OpsReply> RequestAsync(string palette, string command, IReadOnlyList<string> args)
    {
        var ask = ops.Ask<OpsReply>(new OpsRequest(token, palette, command, args), timeout, system);
        var first = await Task.WhenAny(ask, unreachable.Task).ConfigureAwait(false);
        if (first != ask)
        {
            throw new OpsClientException($"cannot reach a node at {target}: connection refused, or the handshake failed (check the cluster secret)");
        }
        try
        {
            return await ask.ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new OpsClientException($"no answer from {target} within {timeout}");
        }
        catch (RemoteFailureException failure)
        {
            throw new OpsClientException($"the command failed on {target}: {failure.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await transport.StopAsync().ConfigureAwait(false);
        await system.Terminate().ConfigureAwait(false);
        await transport.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The ops client could not get an answer; the message is for the operator.</summary>
internal sealed class OpsClientException : Exception
{
    public OpsClientException()
    {
    }

    public OpsClientException(string message)
        : base(message)
    {
    }

    public OpsClientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
