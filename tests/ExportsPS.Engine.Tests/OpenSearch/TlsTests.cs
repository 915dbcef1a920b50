using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Sources.OpenSearch;

namespace ExportsPS.Engine.Tests.OpenSearch;

/// <summary>-CertificatePath against real TLS handshakes on loopback: a private root CA whose intermediate issued
/// the node's certificate (the usual layout of a company PKI), a node that does not send its intermediate, and
/// one whose certificate another CA issued. A handshake that cannot succeed fails at once with the fix, not after retries.</summary>
public sealed class TlsTests : IDisposable
{
    readonly TestHome _home = new();
    readonly X509Certificate2 _root, _intermediate, _leaf;
    readonly string _rootPath;

    public TlsTests()
    {
        _root = Authority("CN=ExportsPS Test Root", null, pathLength: 1);
        _intermediate = Authority("CN=ExportsPS Test Issuing CA", _root, pathLength: 0);
        _leaf = Leaf(_intermediate);
        _rootPath = Path.Combine(_home.Root, "root-ca.pem");
        File.WriteAllText(_rootPath, _root.ExportCertificatePem());
    }

    public void Dispose()
    {
        foreach (var certificate in new[] { _root, _intermediate, _leaf }) certificate.Dispose();
        _home.Dispose();
    }

    static X509Certificate2 Authority(string subject, X509Certificate2? issuer, int pathLength)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, pathLength, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Each certificate ends before its issuer does, as Create requires.
        var (from, to) = (DateTimeOffset.UtcNow.AddDays(-1), issuer is null ? DateTimeOffset.UtcNow.AddDays(30) : issuer.NotAfter.AddDays(-10));
        if (issuer is null) return request.CreateSelfSigned(from, to);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var issued = request.Create(issuer, from, to, RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    static X509Certificate2 Leaf(X509Certificate2 issuer)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var issued = request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), issuer.NotAfter.AddDays(-1), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Answers every request on 127.0.0.1 over TLS with OpenSearch's root info; counts handshakes.</summary>
    sealed class TlsNode : IDisposable
    {
        readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        readonly SslStreamCertificateContext _context;
        int _handshakes;

        public TlsNode(X509Certificate2 leaf, params X509Certificate2[] chain)
        {
            _context = SslStreamCertificateContext.Create(leaf, new X509Certificate2Collection(chain), offline: true);
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public Uri Url => new($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        public int Handshakes => Volatile.Read(ref _handshakes);

        async Task ServeAsync()
        {
            while (true)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; } // stopped
                _ = Task.Run(async () =>
                {
                    using (client)
                    using (var tls = new SslStream(client.GetStream()))
                    {
                        try
                        {
                            Interlocked.Increment(ref _handshakes);
                            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = _context });
                            var request = new StringBuilder();
                            var buffer = new byte[4096];
                            while (!request.ToString().Contains("\r\n\r\n"))
                            {
                                var read = await tls.ReadAsync(buffer);
                                if (read == 0) return;
                                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                            }
                            var body = """{"name":"tls-node","cluster_name":"exportsps-test","version":{"distribution":"opensearch","number":"2.11.1"}}""";
                            await tls.WriteAsync(Encoding.ASCII.GetBytes(
                                $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
                        }
                        catch (Exception) { /* a refused handshake: the client's side is what the test checks */ }
                    }
                });
            }
        }

        public void Dispose() => _listener.Stop();
    }

    async Task<string> RootInfo(Uri url)
    {
        var settings = new OpenSearchSettings { Name = "tls", Urls = [url], CertificateAuthorityPath = _rootPath, MaxRetries = 3, RetryDelay = TimeSpan.FromMilliseconds(10) };
        settings.Validate();
        using var client = new OpenSearchClient(settings, null);
        using var body = await client.SendAsync(HttpMethod.Get, "/", null, RetrySafety.Idempotent, CancellationToken.None);
        return Encoding.UTF8.GetString(body.Span);
    }

    [Fact]
    public async Task A_node_certified_by_an_intermediate_of_the_given_root_CA_is_trusted()
    {
        using var node = new TlsNode(_leaf, _intermediate);
        Assert.Contains("\"tls-node\"", await RootInfo(node.Url));
    }

    [Fact]
    public async Task A_node_that_does_not_send_its_intermediate_or_was_certified_by_another_CA_fails_at_once_naming_the_fix()
    {
        using (var bare = new TlsNode(_leaf))
        {
            var failure = await Assert.ThrowsAsync<ExportException>(() => RootInfo(bare.Url));
            Assert.Equal(ExportErrorCode.SourceFailed, failure.Code);
            Assert.Contains("-CertificatePath", failure.Message);
            Assert.Equal(1, bare.Handshakes); // not retried: the next handshake would fail the same way
        }
        using var otherRoot = Authority("CN=Someone Else", null, pathLength: 0);
        using var foreignLeaf = Leaf(otherRoot);
        using var foreign = new TlsNode(foreignLeaf);
        var refused = await Assert.ThrowsAsync<ExportException>(() => RootInfo(foreign.Url));
        Assert.Contains("TLS handshake failed", refused.Message);
    }
}
