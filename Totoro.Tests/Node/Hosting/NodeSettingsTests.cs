using Microsoft.Extensions.Configuration;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;
using Totoro.Node.Hosting;
using Totoro.Transport.Tcp;

namespace Totoro.Tests.Node.Hosting;

public sealed class NodeSettingsTests
{
    private static string Repo => Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", ".."));

    private static NodeSettings Parse(string text) =>
        NodeSettings.FromConfig(HoconConfig.Parse(text, "test.conf", new HoconReadOptions { Fallback = NodeConfig.Reference() }));

    [Test]
    public void The_loopback_node_file_reads_over_the_reference()
    {
        var settings = NodeSettings.FromConfig(NodeConfig.Load(Path.Combine(Repo, "hocon", "loopback", "node2.conf"), _ => null));
        Assert.That(settings.Name, Is.EqualTo("node2"));
        Assert.That(settings.Port, Is.EqualTo(4102));
        Assert.That(settings.SeedNodes, Is.EqualTo(new[] { new NodeAddress("127.0.0.1", 4101) }));
        Assert.That(settings.ClusterSecret.Value, Is.EqualTo("loopback-only-secret"));
        Assert.That(settings.ClusterName, Is.EqualTo("totoro-loopback"));
        Assert.That(settings.BindHost, Is.EqualTo("127.0.0.1"));
        Assert.That(settings.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(settings.Otlp.Enabled, Is.False);
    }

    [Test]
    public void The_environment_secret_overrides_the_file()
    {
        var settings = NodeSettings.FromConfig(NodeConfig.Load(
            Path.Combine(Repo, "hocon", "loopback", "node1.conf"), name => name == "TOTORO_SECRET" ? "from-the-environment-0001" : null));
        Assert.That(settings.ClusterSecret.Value, Is.EqualTo("from-the-environment-0001"));
    }

    [Test]
    public void A_deployment_file_without_TOTORO_SECRET_names_the_secret_key()
    {
        var error = Assert.Throws<SettingsException>(() => NodeSettings.FromConfig(NodeConfig.Load(Path.Combine(Repo, "hocon", "node.conf"), _ => null)));
        Assert.That(error!.Errors, Has.One.StartsWith("totoro.cluster.secret: is not set"));
    }

    [Test]
    public void Every_bad_key_is_named_in_one_error()
    {
        var error = Assert.Throws<SettingsException>(() => Parse("""
            totoro.cluster.secret = "short"
            totoro.cluster.seed-nodes = ["127.0.0.1:4101", "no-port-here"]
            totoro.remote.port = 70000
            totoro.node.admin-token = "abc"
            totoro.metrics.otlp.protocol = "carrier-pigeon"
            """));
        Assert.That(error!.Errors, Has.Count.EqualTo(5));
        Assert.That(error.Errors, Has.One.StartsWith("totoro.cluster.secret: must be at least 16 bytes"));
        Assert.That(error.Errors, Has.One.StartsWith("totoro.cluster.seed-nodes[1]: 'no-port-here' is not host:port"));
        Assert.That(error.Errors, Has.One.StartsWith("totoro.remote.port: must be between 0 and 65535"));
        Assert.That(error.Errors, Has.One.StartsWith("totoro.node.admin-token"));
        Assert.That(error.Errors, Has.One.StartsWith("totoro.metrics.otlp.protocol"));
    }

    [Test]
    public void Secrets_never_print()
    {
        var settings = Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.node.admin-token = "admin-token-123"
            """);
        Assert.That(settings.ToString(), Does.Not.Contain("a-very-secret").And.Not.Contain("admin-token-123").And.Contain("***"));
        Assert.That(settings.AdminToken!.Value, Is.EqualTo("admin-token-123"));
    }

    [Test]
    public void Tls_paths_and_a_separate_bind_host_reach_the_transport_settings()
    {
        var settings = Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.remote { host = "10.0.0.5", bind-host = "0.0.0.0", port = 4200 }
            totoro.remote.tls { certificate-path = "/etc/totoro/node.p12", ca-path = "/etc/totoro/ca.pem" }
            """);
        var transport = settings.ToTransportSettings(incarnation: 7);
        Assert.That(transport.BindHost, Is.EqualTo("0.0.0.0"));
        Assert.That(transport.AdvertisedHost, Is.EqualTo("10.0.0.5"));
        Assert.That(transport.BindPort, Is.EqualTo(4200));
        Assert.That(transport.Tls!.CertificatePath, Is.EqualTo("/etc/totoro/node.p12"));
        Assert.That(transport.Tls.CaCertificatePath, Is.EqualTo("/etc/totoro/ca.pem"));
        Assert.That(transport.ClusterSecret.Length, Is.EqualTo("a-very-secret-cluster-key".Length));
    }

    [Test]
    public void The_OTLP_switch_builds_an_exporter_only_when_on()
    {
        var off = Parse("totoro.cluster.secret = \"a-very-secret-cluster-key\"");
        Assert.That(NodeMetrics.CreateOtlpProvider(off.Otlp), Is.Null);
        var on = Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.metrics.otlp { enabled = on, endpoint = "http://127.0.0.1:4318", protocol = "http/protobuf", interval = 30s }
            """);
        Assert.That(on.Otlp, Is.EqualTo(new OtlpSettings(true, "http://127.0.0.1:4318", "http/protobuf", TimeSpan.FromSeconds(30))));
        using var provider = NodeMetrics.CreateOtlpProvider(on.Otlp);
        Assert.That(provider, Is.Not.Null);
    }

    [Test]
    public void IConfiguration_keys_map_onto_the_HOCON_sections()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Totoro:Node:Name"] = "embedded",
            ["Totoro:Cluster:Secret"] = "a-very-secret-cluster-key",
            ["Totoro:Cluster:Seed-Nodes:0"] = "127.0.0.1:4101",
            ["Totoro:Cluster:Seed-Nodes:1"] = "127.0.0.1:4102",
            ["Totoro:Remote:Port"] = "0",
            ["Totoro:Node:Shutdown-Timeout"] = "3s",
        }).Build();
        var settings = NodeSettings.FromConfig(NodeConfig.FromConfiguration(configuration));
        Assert.That(settings.Name, Is.EqualTo("embedded"));
        Assert.That(settings.SeedNodes, Has.Count.EqualTo(2));
        Assert.That(settings.Port, Is.Zero);
        Assert.That(settings.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(settings.Zone, Is.EqualTo("default"));
    }

    [Test]
    public void Transport_limits_are_read_and_cross_field_rules_name_the_node_keys()
    {
        var settings = Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.transport.tcp { max-frame-bytes = 2MiB, idle-timeout = 5s, send-queue-length = 100 }
            """);
        Assert.That(settings.Transport.MaxFrameBytes, Is.EqualTo(2 * 1024 * 1024));
        Assert.That(settings.ToTransportSettings(incarnation: 9).IdleTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(settings.ToTransportSettings(incarnation: 9).Incarnation, Is.EqualTo(9));
        Assert.That(settings.Transport.SendQueueLength, Is.EqualTo(100));

        var backoff = Assert.Throws<SettingsException>(() => Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.transport.tcp { reconnect-backoff-min = 5s, reconnect-backoff-max = 1s }
            """));
        Assert.That(backoff!.Errors, Is.EqualTo(new[] { "totoro.transport.tcp.reconnect-backoff-max: must be at least reconnect-backoff-min" }));

        var tls = Assert.Throws<SettingsException>(() => Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.remote.tls.certificate-path = "/etc/totoro/node.p12"
            """));
        Assert.That(tls!.Errors.Single(), Does.StartWith("totoro.remote.tls.ca-path: "));
    }

    [Test]
    public void Blob_memory_budgets_come_from_the_transport_reference_and_can_be_overridden()
    {
        var defaults = Parse("""totoro.cluster.secret = "a-very-secret-cluster-key" """);
        Assert.That(defaults.Transport.MaxBlobMemory, Is.EqualTo(1024L * 1024 * 1024), "Totoro.Transport.Tcp's embedded reference.conf");
        Assert.That(defaults.Transport.MaxBlobMemoryPerConnection, Is.EqualTo(512L * 1024 * 1024));

        var tuned = Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.transport.tcp { max-blob-memory = 3GiB, max-blob-memory-per-connection = 1GiB }
            """);
        Assert.That(tuned.Transport.MaxBlobMemory, Is.EqualTo(3L * 1024 * 1024 * 1024));
        Assert.That(tuned.Transport.MaxBlobMemoryPerConnection, Is.EqualTo(1024L * 1024 * 1024));

        var inverted = Assert.Throws<SettingsException>(() => Parse("""
            totoro.cluster.secret = "a-very-secret-cluster-key"
            totoro.transport.tcp { max-blob-memory = 600MiB, max-blob-memory-per-connection = 1GiB }
            """));
        Assert.That(inverted!.Errors, Is.EqualTo(new[] { "totoro.transport.tcp.max-blob-memory: must be at least max-blob-memory-per-connection" }));
    }
}
