using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Hocon;

/// <summary>
/// The node overlays shipped in hocon/ must read cleanly over the kernel's reference.conf. hocon/sim/ holds simulator
/// presets instead (<c>totoro sim ring --network</c>); SimNetworkConfigTests reads those.
/// </summary>
public sealed class DeploymentConfigTests
{
    private static readonly string HoconDirectory = Path.Combine(Repository.Root, "hocon");

    private static IEnumerable<string> ConfigFiles() =>
        Directory.EnumerateFiles(HoconDirectory, "*.conf", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(HoconDirectory, f))
            .Where(f => !f.StartsWith("sim" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    [Test]
    public void The_hocon_directory_holds_the_expected_overlays()
    {
        Assert.That(ConfigFiles(), Is.SupersetOf(new[]
        {
            "common.conf", "node.conf", "seed.conf",
            Path.Combine("loopback", "common.conf"), Path.Combine("loopback", "node1.conf"),
            Path.Combine("loopback", "node2.conf"), Path.Combine("loopback", "node3.conf"),
        }));
    }

    [TestCaseSource(nameof(ConfigFiles))]
    public void Every_overlay_parses_resolves_and_yields_valid_kernel_settings(string file)
    {
        var config = Read(file, environment: []);

        Assert.That(config.GetString("totoro.cluster.name"), Does.StartWith("totoro"));
        Assert.That(config.GetInt("totoro.remote.port"), Is.InRange(1, 65535));
        Assert.That(KernelSettings.FromConfig(config).DispatcherThroughput, Is.GreaterThan(0));
    }

    [Test]
    public void Node_conf_combines_the_common_file_with_its_own_keys()
    {
        var config = Read("node.conf", environment: []);

        Assert.That(config.GetString("totoro.cluster.name"), Is.EqualTo("totoro-edge"));
        Assert.That(config.GetString("totoro.remote.host"), Is.EqualTo("10.0.0.21"));
        Assert.That(config.GetInt("totoro.remote.port"), Is.EqualTo(4053));
        Assert.That(config.GetStringList("totoro.cluster.seed-nodes"), Is.EqualTo(new[] { "10.0.0.10:4053", "10.0.0.11:4053" }));
        Assert.That(config.GetString("totoro.node.zone"), Is.EqualTo("eu-west"));
        Assert.That(config.GetString("totoro.node.data-dir"), Is.EqualTo("/var/lib/totoro"));
        Assert.That(config.HasPath("totoro.cluster.secret"), Is.False, "no secret without TOTORO_SECRET");
    }

    [Test]
    public void Environment_supplies_the_secret_and_can_move_the_port()
    {
        var config = Read("node.conf", environment: new() { ["TOTORO_SECRET"] = "from-env", ["TOTORO_PORT"] = "5000" });

        Assert.That(config.GetString("totoro.cluster.secret"), Is.EqualTo("from-env"));
        Assert.That(config.GetInt("totoro.remote.port"), Is.EqualTo(5000));
    }

    [Test]
    public void Seed_conf_lists_its_own_address_first()
    {
        var config = Read("seed.conf", environment: []);

        Assert.That(config.GetStringList("totoro.cluster.seed-nodes"), Is.EqualTo(new[] { "10.0.0.10:4053", "10.0.0.11:4053" }));
        Assert.That(config.GetString("totoro.node.zone"), Is.EqualTo("eu-west"));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void Loopback_nodes_share_the_common_file_and_differ_in_name_port_and_data_dir(int node)
    {
        var config = Read(Path.Combine("loopback", $"node{node}.conf"), environment: []);

        Assert.That(config.GetString("totoro.cluster.name"), Is.EqualTo("totoro-loopback"));
        Assert.That(config.GetString("totoro.remote.host"), Is.EqualTo("127.0.0.1"));
        Assert.That(config.GetInt("totoro.remote.port"), Is.EqualTo(4100 + node));
        Assert.That(config.GetString("totoro.node.data-dir"), Is.EqualTo($"data/loopback/node{node}"));
        Assert.That(config.GetStringList("totoro.cluster.seed-nodes"), Is.EqualTo(new[] { "127.0.0.1:4101" }));
        Assert.That(config.GetString("totoro.cluster.secret"), Is.EqualTo("loopback-only-secret"));
    }

    private static HoconConfig Read(string file, Dictionary<string, string> environment) =>
        HoconConfig.ParseFile(
            Path.Combine(HoconDirectory, file),
            new HoconReadOptions
            {
                Fallback = ReferenceConfig.Load(typeof(KernelSettings).Assembly),
                Environment = name => environment.GetValueOrDefault(name),
            });
}
