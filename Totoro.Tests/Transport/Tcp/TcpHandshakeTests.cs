using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Totoro.Transport.Tcp;
using static Totoro.Tests.Transport.Tcp.TcpTestKit;

namespace Totoro.Tests.Transport.Tcp;

[TestFixture]
[NonParallelizable]
public sealed class TcpHandshakeTests
{
    [Test]
    public async Task Handshake_introduces_both_nodes_with_id_and_incarnation()
    {
        var aSettings = Settings("node-a");
        var bSettings = Settings("node-b");
        await using var a = await StartAsync(aSettings);
        await using var b = await StartAsync(bSettings);

        Assert.That(a.Transport.Send(b.Address, Envelope("test.ping", new byte[] { 1 })), Is.EqualTo(SendResult.Accepted));

        var seenByA = await a.Handler.Connected.NextAsync();
        var seenByB = await b.Handler.Connected.NextAsync();
        await b.Handler.WaitForAsync(1);
        Assert.Multiple(() =>
        {
            Assert.That(seenByA, Is.EqualTo(new PeerInfo(b.Address, "node-b", bSettings.Incarnation, false, ConnectionDirection.Outbound)));
            Assert.That(seenByB, Is.EqualTo(new PeerInfo(a.Address, "node-a", aSettings.Incarnation, false, ConnectionDirection.Inbound)));
            Assert.That(b.Handler.Received[0].From, Is.EqualTo(a.Address));
        });
    }

    [Test]
    public async Task Wrong_secret_is_refused_and_counted_on_both_sides()
    {
        await using var a = await StartAsync(Settings("node-a") with { ClusterSecret = "another-cluster-secret-entirely!"u8.ToArray() });
        await using var b = await StartAsync(Settings("node-b"));

        a.Transport.Send(b.Address, Envelope("test.ping", new byte[] { 1 }));

        var dialerSaw = await a.Handler.Unreachable.NextAsync();
        var acceptorSaw = await b.Handler.Refused.NextAsync();
        Assert.Multiple(() =>
        {
            Assert.That(dialerSaw.Reason, Is.EqualTo(CloseReason.AuthenticationFailed));
            Assert.That(acceptorSaw, Is.EqualTo(CloseReason.AuthenticationFailed));
            Assert.That(a.Transport.GetStats().ClosedWith(CloseReason.AuthenticationFailed), Is.GreaterThanOrEqualTo(1));
            Assert.That(b.Transport.GetStats().ClosedWith(CloseReason.AuthenticationFailed), Is.GreaterThanOrEqualTo(1));
            Assert.That(b.Handler.Received, Is.Empty);
        });

        // And the other way round: the node with the right secret dialing the one with the wrong secret.
        b.Transport.Send(a.Address, Envelope("test.ping", new byte[] { 2 }));
        Assert.That((await b.Handler.Unreachable.NextAsync()).Reason, Is.EqualTo(CloseReason.AuthenticationFailed));
        Assert.That(await a.Handler.Refused.NextAsync(), Is.EqualTo(CloseReason.AuthenticationFailed));
        Assert.That(a.Handler.Received, Is.Empty);
    }

    [Test]
    public async Task Protocol_version_mismatch_is_refused_and_counted_on_both_sides()
    {
        await using var a = await StartAsync(Settings("node-a") with { ProtocolVersion = TcpTransportSettings.CurrentProtocolVersion + 1 });
        await using var b = await StartAsync(Settings("node-b"));

        a.Transport.Send(b.Address, Envelope("test.ping", new byte[] { 1 }));

        Assert.That((await a.Handler.Unreachable.NextAsync()).Reason, Is.EqualTo(CloseReason.VersionMismatch));
        Assert.That(await b.Handler.Refused.NextAsync(), Is.EqualTo(CloseReason.VersionMismatch));
        Assert.That(b.Transport.GetStats().ClosedWith(CloseReason.VersionMismatch), Is.EqualTo(1));
    }

    [Test]
    public async Task Forged_handshake_with_a_bad_mac_is_refused()
    {
        await using var node = await StartAsync(Settings("node"));
        await using var raw = await RawPeer.ConnectAsync(node.Address);

        var forger = Settings("forger") with { ClusterSecret = new byte[32] };
        var failure = await Assert.ThrowsAsync<Totoro.Transport.Tcp.Framing.ProtocolViolationException>(
            () => raw.HandshakeAsync(forger, new NodeAddress("127.0.0.1", 9)));

        Assert.That(failure!.Reason, Is.EqualTo(CloseReason.AuthenticationFailed));
        Assert.That(await node.Handler.Refused.NextAsync(), Is.EqualTo(CloseReason.AuthenticationFailed));
    }

    [Test]
    public async Task Tls_with_pinned_certificates_carries_messages_and_refuses_strangers()
    {
        var folder = Directory.CreateTempSubdirectory("totoro-tls-");
        try
        {
            var (trustedPath, thumbprint) = WriteSelfSigned(folder.FullName, "trusted");
            var (strangerPath, strangerThumbprint) = WriteSelfSigned(folder.FullName, "stranger");
            var tls = new TcpTlsSettings { CertificatePath = trustedPath, CertificatePassword = "pw", PinnedThumbprints = [thumbprint] };
            await using var a = await StartAsync(Settings("node-a") with { Tls = tls });
            await using var b = await StartAsync(Settings("node-b") with { Tls = tls });

            for (var i = 0; i < 100; i++)
            {
                a.Transport.Send(b.Address, Envelope("test.seq", BitConverter.GetBytes(i)));
            }
            await b.Handler.WaitForAsync(100);
            Assert.That(b.Handler.Received.Select(e => BitConverter.ToInt32(e.Envelope.Payload.Span)), Is.EqualTo(Enumerable.Range(0, 100)));

            // The stranger trusts only itself, so each side finds the other's certificate untrusted.
            await using var stranger = await StartAsync(Settings("stranger") with
            {
                Tls = tls with { CertificatePath = strangerPath, PinnedThumbprints = [strangerThumbprint] },
            });
            stranger.Transport.Send(b.Address, Envelope("test.seq", new byte[] { 1 }));
            Assert.That((await stranger.Handler.Unreachable.NextAsync()).Reason, Is.EqualTo(CloseReason.TlsFailed));
            Assert.That(await b.Handler.Refused.NextAsync(), Is.EqualTo(CloseReason.TlsFailed));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    public async Task Tls_trusts_peers_signed_by_the_configured_ca()
    {
        var folder = Directory.CreateTempSubdirectory("totoro-ca-");
        try
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=totoro-test-ca", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var caPath = Path.Combine(folder.FullName, "ca.pem");
            await File.WriteAllTextAsync(caPath, ca.ExportCertificatePem());

            string Issue(string name)
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
                using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
                using var withKey = issued.CopyWithPrivateKey(key);
                var path = Path.Combine(folder.FullName, $"{name}.pfx");
                File.WriteAllBytes(path, withKey.Export(X509ContentType.Pfx, "pw"));
                return path;
            }

            await using var a = await StartAsync(Settings("node-a") with
            {
                Tls = new TcpTlsSettings { CertificatePath = Issue("node-a"), CertificatePassword = "pw", CaCertificatePath = caPath },
            });
            await using var b = await StartAsync(Settings("node-b") with
            {
                Tls = new TcpTlsSettings { CertificatePath = Issue("node-b"), CertificatePassword = "pw", CaCertificatePath = caPath },
            });

            a.Transport.Send(b.Address, Envelope("test.ping", new byte[] { 7 }));
            await b.Handler.WaitForAsync(1);
            Assert.That(b.Handler.Received[0].Envelope.Payload.ToArray(), Is.EqualTo(new byte[] { 7 }));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static (string Path, string Thumbprint) WriteSelfSigned(string folder, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var path = Path.Combine(folder, $"{name}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "pw"));
        return (path, certificate.GetCertHashString(HashAlgorithmName.SHA256));
    }
}
