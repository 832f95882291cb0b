using Totoro.Kernel;
using Totoro.Kernel.Hocon;
using Totoro.Node.Hosting;
using Totoro.Node.Membership;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Node;

/// <summary>In-process nodes on 127.0.0.1 with free ports; waits are bounded waits on signals.</summary>
internal static class NodeTestKit
{
    public const string Secret = "node-tests-cluster-secret";

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static HoconConfig Config(string name, string extra = "", IEnumerable<string>? seeds = null)
    {
        var seedList = string.Join(", ", (seeds ?? []).Select(s => $"\"{s}\""));
        return HoconConfig.Parse(
            $$"""
            totoro {
              node { name = "{{name}}", zone = "test", hello-interval = 200ms, shutdown-timeout = 2s }
              cluster { name = "test-cluster", secret = "{{Secret}}", seed-nodes = [{{seedList}}] }
              remote { host = "127.0.0.1", port = 0 }
            }
            {{extra}}
            """,
            $"{name}.conf",
            new HoconReadOptions { Fallback = NodeConfig.Reference() });
    }

    public static async Task<TotoroNode> StartAsync(string name, string extra = "", IEnumerable<string>? seeds = null, params INodeModule[] modules)
    {
        var node = new TotoroNode(Config(name, extra, seeds), modules);
        await node.StartAsync(CancellationToken.None).WaitAsync(Patience);
        return node;
    }

    public static string Endpoint(this ITotoroNode node) => $"{node.Address.Host}:{node.Address.Port}";

    /// <summary>A probe subscribed to the node's membership views.</summary>
    public static TestProbe WatchMembership(this ITotoroNode node)
    {
        var probe = new TestProbe(node.System);
        node.System.EventStream.Subscribe<MembershipView>(probe.Ref);
        return probe;
    }

    /// <summary>Waits (bounded) for a published view satisfying <paramref name="condition"/>, unless the current one already does.</summary>
    public static async Task<MembershipView> AwaitViewAsync(this ITotoroNode node, TestProbe views, Func<MembershipView, bool> condition)
    {
        var current = await node.GetMembersAsync().WaitAsync(Patience);
        return condition(current) ? current : await Task.Run(() => views.FishForMessage(condition, Patience));
    }

    public static int UpCount(this MembershipView view) => view.Members.Values.Count(m => m.Status == MemberStatus.Up);
}
