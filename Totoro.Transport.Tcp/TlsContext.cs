using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.IO.Pipelines;

namespace Totoro.Transport.Tcp;

/// <summary>
/// Mutual TLS from files. A peer is trusted when its certificate chains to the configured CA or matches a pinned
/// thumbprint; host names are not checked because nodes are addressed by IP and authenticated again by the
/// cluster-secret handshake inside the tunnel.
/// </summary>
internal sealed class TlsContext : IDisposable
{
    private readonly X509Certificate2 certificate;
    private readonly X509Certificate2? authority;
    private readonly HashSet<string> pinned;

    public TlsContext(TcpTlsSettings settings)
    {
        certificate = X509CertificateLoader.LoadPkcs12FromFile(settings.CertificatePath, settings.CertificatePassword);
        authority = settings.CaCertificatePath is null ? null : X509CertificateLoader.LoadCertificateFromFile(settings.CaCertificatePath);
        pinned = new HashSet<string>(settings.PinnedThumbprints.Select(t => t.Replace(":", "", StringComparison.Ordinal)), StringComparer.OrdinalIgnoreCase);
    }

    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificate = certificate,
        ClientCertificateRequired = true,
        RemoteCertificateValidationCallback = (_, peer, _, errors) => peer is X509Certificate2 x509 && IsTrusted(x509, errors),
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    /// <summary>Runs the server side of TLS over an accepted connection and returns the decrypted pipe pair.</summary>
    public async Task<DuplexConnection> AuthenticateAsServerAsync(IDuplexPipe transport, CancellationToken cancellation)
    {
        var ssl = new SslStream(new DuplexPipeStream(transport), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsServerAsync(ServerOptions(), cancellation);
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
        return DuplexConnection.Over(ssl);
    }

    public SslClientAuthenticationOptions ClientOptions(string host) => new()
    {
        TargetHost = host,
        ClientCertificates = [certificate],
        RemoteCertificateValidationCallback = (_, peer, _, errors) => peer is X509Certificate2 x509 && IsTrusted(x509, errors),
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    public bool IsTrusted(X509Certificate2? peer, SslPolicyErrors errors)
    {
        if (peer is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }
        if (pinned.Contains(peer.Thumbprint) || pinned.Contains(peer.GetCertHashString(HashAlgorithmName.SHA256)))
        {
            return true;
        }
        if (authority is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }

    public void Dispose()
    {
        certificate.Dispose();
        authority?.Dispose();
    }
}
