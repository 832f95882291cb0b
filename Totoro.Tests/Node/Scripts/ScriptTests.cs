using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Totoro.Tests.Node.Scripts;

/// <summary>
/// Runs scripts/local-cluster.sh and scripts/deploy/totoro-deploy.sh --local against the built totoro binary, each
/// step bounded by a timeout on the process exit; and shellcheck over every script when it is installed.
/// </summary>
[NonParallelizable]
public sealed class ScriptTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);

    private static string Repo => Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", ".."));

    /// <summary>The node's build output of the same configuration as these tests.</summary>
    private static string NodeBinDir
    {
        get
        {
            var testDir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            return Path.Combine(Repo, "Totoro.Node", "bin", testDir.Parent!.Name, testDir.Name);
        }
    }

    [Test]
    public async Task Local_cluster_starts_two_nodes_that_see_each_other_and_stops_them()
    {
        var dir = Directory.CreateTempSubdirectory("totoro-cluster-").FullName;
        var basePort = FreeConsecutivePorts(2) - 1;
        var env = new Dictionary<string, string>
        {
            ["TOTORO_BIN"] = Path.Combine(NodeBinDir, "totoro"),
            ["TOTORO_CLUSTER_DIR"] = dir,
            ["TOTORO_CLUSTER_BASE_PORT"] = basePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        try
        {
            var start = await RunAsync("scripts/local-cluster.sh", ["start", "2"], env);
            Assert.That(start.Status, Is.Zero, start.Output);
            var status = await RunAsync("scripts/local-cluster.sh", ["status"], env);
            Assert.That(status.Status, Is.Zero, status.Output);
            Assert.That(status.Output, Does.Contain($"127.0.0.1:{basePort + 2}  node2"));
            Assert.That(status.Output, Does.Contain($"127.0.0.1:{basePort + 1}  node1"));
            Assert.That(status.Output, Does.Contain($"ring members seen by {Totoro.Actors.Ring.NodeId.FromName("node2")} @127.0.0.1:{basePort + 2}"));
        }
        finally
        {
            var stop = await RunAsync("scripts/local-cluster.sh", ["stop"], env);
            var after = await RunAsync("scripts/local-cluster.sh", ["status"], env);
            var log = await File.ReadAllTextAsync(Path.Combine(dir, "node2", "node.log"));
            Directory.Delete(dir, recursive: true);
            Assert.That(log, Does.Contain("Node node2 leaving").And.Contain("Node node2 stopped"), "SIGTERM shuts the node down gracefully");
            Assert.That(stop.Output, Does.Contain("node1 stopped").And.Contain("node2 stopped"));
            Assert.That(after.Status, Is.Not.Zero);
            Assert.That(after.Output, Does.Contain("node1 127.0.0.1:" + (basePort + 1) + " not running"));
        }
    }

    [Test]
    public async Task Deploy_in_local_mode_copies_starts_reports_and_stops_every_host()
    {
        var work = Directory.CreateTempSubdirectory("totoro-deploy-").FullName;
        var first = FreeConsecutivePorts(2);
        var hosts = Path.Combine(work, "hosts");
        await File.WriteAllTextAsync(hosts, $"# test hosts\nalpha unused 127.0.0.1 {first} zone-a\nbeta unused 127.0.0.1 {first + 1}\n");
        var env = new Dictionary<string, string> { ["TOTORO_SECRET"] = "deploy-test-secret-0001", ["TOTORO_DEPLOY_WORK"] = work };
        string[] common = ["--local", "--hosts", hosts, "--bin-dir", NodeBinDir];
        try
        {
            var deploy = await RunAsync("scripts/deploy/totoro-deploy.sh", [.. common, "deploy"], env);
            Assert.That(deploy.Status, Is.Zero, deploy.Output);
            Assert.That(File.Exists(Path.Combine(work, "beta", "bin", "totoro.dll")), Is.True);
            Assert.That(await File.ReadAllTextAsync(Path.Combine(work, "beta", "node.conf")), Does.Contain($"seed-nodes = [\"127.0.0.1:{first}\"]"));
            var start = await RunAsync("scripts/deploy/totoro-deploy.sh", [.. common, "start"], env);
            Assert.That(start.Status, Is.Zero, start.Output);
            var status = await RunAsync("scripts/deploy/totoro-deploy.sh", [.. common, "status"], env);
            Assert.That(status.Status, Is.Zero, status.Output);
            Assert.That(status.Output, Does.Contain($"127.0.0.1:{first + 1}  beta"));
        }
        finally
        {
            var stop = await RunAsync("scripts/deploy/totoro-deploy.sh", [.. common, "stop"], env);
            Assert.That(stop.Status, Is.Zero, stop.Output);
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public async Task A_malformed_hosts_line_is_reported_with_its_line_number()
    {
        var work = Directory.CreateTempSubdirectory("totoro-deploy-").FullName;
        var hosts = Path.Combine(work, "hosts");
        await File.WriteAllTextAsync(hosts, "# hosts\nalpha unused 127.0.0.1 not-a-port\n");
        var result = await RunAsync("scripts/deploy/totoro-deploy.sh", ["--local", "--hosts", hosts, "status"],
            new Dictionary<string, string> { ["TOTORO_DEPLOY_WORK"] = work });
        Directory.Delete(work, recursive: true);
        Assert.That(result.Status, Is.EqualTo(2));
        Assert.That(result.Output, Does.Contain("hosts:2: expected 'name ssh-target host port [zone]'"));
    }

    [Test]
    public async Task Every_script_is_shellcheck_clean()
    {
        var shellcheck = new[] { "/usr/bin/shellcheck", "/usr/local/bin/shellcheck" }.FirstOrDefault(File.Exists);
        if (shellcheck is null)
        {
            Assert.Ignore("shellcheck is not installed (apt-get install -y shellcheck)");
        }
        string[] scripts = ["scripts/local-cluster.sh", "scripts/deploy/totoro-deploy.sh"];
        var result = await RunAsync(shellcheck, scripts, []);
        Assert.That(result.Status, Is.Zero, result.Output);
    }

    private static int FreeConsecutivePorts(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var first = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (first + count < 65000 && Enumerable.Range(first, count).All(IsFree))
            {
                return first;
            }
        }
        throw new AssertionException("no free consecutive ports on 127.0.0.1");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<(int Status, string Output)> RunAsync(string script, string[] args, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(script.StartsWith('/') ? script : Path.Combine(Repo, script))
        {
            WorkingDirectory = Repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(StepTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new AssertionException($"{script} {string.Join(' ', args)} did not finish within {StepTimeout}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
