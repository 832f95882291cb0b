using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Totoro.Node.Cli;
using Totoro.Node.Hosting;
using Totoro.Node.Ops;
using Totoro.Tests.Node.Hosting;

namespace Totoro.Tests.Node.Ops;

[NonParallelizable]
public sealed class OpsShellTests
{
    private static readonly Func<string, string?> WithSecret = name => name == "TOTORO_SECRET" ? NodeTestKit.Secret : null;

    private static async Task<(int Status, string Output, string Error)> Cmd(ITotoroNode node, string[] words, bool json = false,
        string input = "", Func<string, string?>? environment = null, string? token = null, string? history = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var call = new CmdCommand.CmdInvocation(node.Endpoint(), words, json, null, null, token, 10, history);
        var status = await CmdCommand.RunAsync(call, new StringReader(input), output, error, environment ?? WithSecret, TimeProvider.System)
            .WaitAsync(NodeTestKit.Patience);
        return (status, output.ToString(), error.ToString());
    }

    [Test]
    public async Task Node_info_as_json_is_one_document_with_the_node_identity()
    {
        await using var node = await NodeTestKit.StartAsync("ops-node");
        var (status, output, error) = await Cmd(node, ["node", "info"], json: true);
        Assert.That(status, Is.Zero, error);
        using var document = JsonDocument.Parse(output);
        var rows = document.RootElement.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!, r => r.GetProperty("value").GetString());
        Assert.That(document.RootElement.GetProperty("palette").GetString(), Is.EqualTo("node"));
        Assert.That(rows["name"], Is.EqualTo("ops-node"));
        Assert.That(rows["address"], Is.EqualTo(node.Address.ToString()));
        Assert.That(rows["cluster"], Is.EqualTo("test-cluster"));
    }

    [Test]
    public async Task Cluster_members_lists_the_peers_the_node_sees_as_plain_text()
    {
        await using var seed = await NodeTestKit.StartAsync("seed");
        var views = seed.WatchMembership();
        await using var peer = await NodeTestKit.StartAsync("peer", seeds: [seed.Endpoint()]);
        await seed.AwaitViewAsync(views, v => v.UpCount() == 1);

        var (status, output, _) = await Cmd(seed, ["cluster", "members"]);

        Assert.That(status, Is.Zero);
        var line = output.Split('\n').Single(l => l.StartsWith(peer.Endpoint(), StringComparison.Ordinal));
        Assert.That(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4], Is.EqualTo(new[] { peer.Endpoint(), "peer", "test", "up" }));
    }

    [Test]
    public async Task Node_config_redacts_the_secret_and_node_actors_lists_the_tree()
    {
        await using var node = await NodeTestKit.StartAsync("redacting", "totoro.node.admin-token = \"admin-secret-token\"");
        var (_, config, _) = await Cmd(node, ["node", "config", "totoro"], token: "admin-secret-token");
        Assert.That(config, Does.Contain("totoro.cluster.secret").And.Not.Contain(NodeTestKit.Secret).And.Not.Contain("admin-secret-token"));
        var (_, actors, _) = await Cmd(node, ["node", "actors"], json: true, token: "admin-secret-token");
        using var document = JsonDocument.Parse(actors);
        var paths = document.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("path").GetString()).ToArray();
        Assert.That(paths, Does.Contain("/user/membership").And.Contain("/user/ops"));
    }

    [Test]
    public async Task Module_palettes_are_served_and_arguments_are_checked_from_the_description()
    {
        await using var node = await NodeTestKit.StartAsync("with-module", "", null, TotoroNodeTests.Greeter("greeter"));
        var (ok, output, _) = await Cmd(node, ["greeter", "hello", "world"]);
        Assert.That(ok, Is.Zero);
        Assert.That(output, Does.Contain("hello world from greeter"));

        var (missing, _, error) = await Cmd(node, ["greeter", "hello"]);
        Assert.That(missing, Is.EqualTo(1));
        Assert.That(error, Does.Contain("missing argument WHO"));

        var (unknown, _, unknownError) = await Cmd(node, ["ring", "members"]);
        Assert.That(unknown, Is.EqualTo(1));
        Assert.That(unknownError, Does.Contain("unknown palette 'ring'").And.Contain("greeter"));
    }

    [Test]
    public async Task An_admin_token_is_required_when_the_node_has_one()
    {
        await using var node = await NodeTestKit.StartAsync("guarded", "totoro.node.admin-token = \"admin-secret-token\"");
        var (refused, output, _) = await Cmd(node, ["node", "info"], json: true);
        Assert.That(refused, Is.EqualTo(2));
        using var document = JsonDocument.Parse(output);
        Assert.That(document.RootElement.GetProperty("error").GetString(), Does.StartWith("unauthorized"));
        var (allowed, _, _) = await Cmd(node, ["node", "info"], token: "admin-secret-token");
        Assert.That(allowed, Is.Zero);
    }

    [Test]
    public async Task A_wrong_secret_or_missing_node_fails_fast_with_a_message()
    {
        await using var node = await NodeTestKit.StartAsync("locked");
        var (status, _, error) = await Cmd(node, ["node", "info"], environment: name => name == "TOTORO_SECRET" ? "not-the-cluster-secret" : null);
        Assert.That(status, Is.EqualTo(2));
        Assert.That(error, Does.Contain("check the cluster secret"));

        var (noSecret, _, noSecretError) = await Cmd(node, ["node", "info"], environment: _ => null);
        Assert.That(noSecret, Is.EqualTo(2));
        Assert.That(noSecretError, Does.Contain("no cluster secret"));
    }

    [Test]
    public async Task The_interactive_shell_reads_commands_until_exit_and_keeps_a_history()
    {
        await using var node = await NodeTestKit.StartAsync("interactive");
        var history = Path.Combine(Path.GetTempPath(), $"totoro-history-{Guid.NewGuid():N}");
        try
        {
            var (status, output, error) = await Cmd(node, [], input: "help\nhelp node\n\nnode info\nnode nonsense\nexit\nnode info\n", history: history);
            Assert.That(status, Is.EqualTo(1), "the last command before exit failed");
            Assert.That(output, Does.Contain("palettes").And.Contain("node metrics [PREFIX]").And.Contain("interactive"));
            Assert.That(error, Does.Contain("no command 'nonsense'"));
            Assert.That(await File.ReadAllLinesAsync(history), Is.EqualTo(new[] { "help", "help node", "node info", "node nonsense", "exit" }));
        }
        finally
        {
            File.Delete(history);
        }
    }

    [Test]
    public async Task Node_leave_answers_then_stops_the_host_gracefully()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTotoro(NodeTestKit.Config("leaver"));
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(NodeTestKit.Patience);
        var node = host.Services.GetRequiredService<ITotoroNode>();
        var stopping = new TaskCompletionSource();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() => stopping.TrySetResult());

        var (status, output, error) = await Cmd(node, ["node", "leave"], json: true);

        Assert.That(status, Is.Zero, error);
        Assert.That(output, Does.Contain("\"leaving\""));
        await host.WaitForShutdownAsync().WaitAsync(NodeTestKit.Patience);
        await stopping.Task.WaitAsync(NodeTestKit.Patience);
        Assert.That(node.IsRunning, Is.False);
    }

    [Test]
    public async Task Node_leave_is_refused_when_no_host_can_stop_the_node()
    {
        await using var node = await NodeTestKit.StartAsync("unhosted");
        var (status, _, error) = await Cmd(node, ["node", "leave"]);
        Assert.That(status, Is.EqualTo(1));
        Assert.That(error, Does.Contain("not run by a host"));
        Assert.That(node.IsRunning, Is.True);
    }

    [Test]
    public void Lines_split_into_words_with_quotes_keeping_spaces()
    {
        Assert.That(OpsShell.Split("  ring route \"a key\"  x"), Is.EqualTo(new[] { "ring", "route", "a key", "x" }));
        Assert.That(OpsShell.Split("app \"\""), Is.EqualTo(new[] { "app", "" }));
    }
}
