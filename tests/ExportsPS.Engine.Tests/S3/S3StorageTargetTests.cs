using System.Net;
using System.Net.Sockets;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Storage;
using ExportsPS.Engine.Storage.S3;

namespace ExportsPS.Engine.Tests.S3;

/// <summary>What the S3 store decides before it talks to a server, so it runs everywhere: registration
/// validation, the key layout, credentials kept out of text, and pre-signing (an offline signature: the
/// endpoint is never contacted). The round trips against a real server are in <see cref="S3StorageTests"/>.</summary>
public sealed class S3StorageTargetTests : IDisposable
{
    const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    S3StorageTarget Target(string bucket = "exports-bucket", string endpoint = "http://127.0.0.1:7480") => new()
    {
        Name = "s3", Bucket = bucket, Prefix = "exports/", Endpoint = new Uri(endpoint, UriKind.RelativeOrAbsolute),
        AccessKeyId = "AKIAEXAMPLE", ProtectedSecretAccessKey = _home.Service.Vault.Protect(Secret),
    };

    static ArtifactManifest Manifest(string? fingerprint = null, DateTimeOffset? expiresAt = null) => new()
    {
        ExportName = "daily", RunId = "r", FileName = "daily.jsonl.gz", Format = "jsonl", Compression = "gzip", Records = 1, Bytes = 1,
        Sha256 = new string('0', 64), Query = "*", Index = "events", CreatedAt = DateTimeOffset.UtcNow, ExpiresAt = expiresAt,
        Encryption = fingerprint is null ? null : "sse-c", KeyFingerprint = fingerprint,
    };

    [Theory]
    [InlineData("abc")]
    [InlineData("my-exports.2026")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")] // 63 characters
    public void Valid_bucket_names_are_accepted(string bucket) => Target(bucket).Validate();

    [Theory]
    [InlineData("ab")]                 // too short
    [InlineData("Exports")]            // upper case
    [InlineData("-exports")]
    [InlineData("exports-")]
    [InlineData("my..exports")]
    [InlineData("my_exports")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")] // 64 characters
    public void Invalid_bucket_names_are_refused_naming_the_rules(string bucket)
    {
        var error = Assert.Throws<ExportException>(() => Target(bucket).Validate());
        Assert.Equal(ExportErrorCode.InvalidOption, error.Code);
        Assert.Contains($"'{bucket}' is not a valid bucket name", error.Message);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:7480")]
    [InlineData("s3.example.net")]      // relative: no scheme
    public void The_endpoint_must_be_an_absolute_http_or_https_url(string endpoint)
    {
        var error = Assert.Throws<ExportException>(() => Target(endpoint: endpoint).Validate());
        Assert.Equal(ExportErrorCode.InvalidOption, error.Code);
        Assert.Contains("must be an http(s) URL", error.Message);
    }

    [Fact]
    public void Credentials_in_the_endpoint_url_are_refused_without_repeating_them()
    {
        var error = Assert.Throws<ExportException>(() => Target(endpoint: "http://AKIAEXAMPLE:hunter2@127.0.0.1:7480").Validate());
        Assert.Contains("-Credential", error.Message);
        Assert.DoesNotContain("hunter2", error.ToString());
    }

    [Fact]
    public void A_prefix_without_its_slash_still_puts_each_export_in_its_own_folder()
    {
        var target = Target() with { Prefix = "exports" };
        Assert.Equal("exports/", target.Prefix);
        using var store = new S3ArtifactStore(target, _home.Service.Vault);
        Assert.Equal("http://127.0.0.1:7480/exports-bucket/exports/daily/daily.jsonl.gz", store.Locate("daily", "daily.jsonl.gz"));
        Assert.Equal("", (Target() with { Prefix = "" }).Prefix);
        Assert.Throws<ExportException>(() => (Target() with { Prefix = "/exports" }).Validate());
        Assert.Throws<ExportException>(() => (Target() with { Prefix = "a/../b" }).Validate());
    }

    [Fact]
    public void Credentials_are_a_protected_pair_a_profile_or_nothing()
    {
        (Target() with { AccessKeyId = null, ProtectedSecretAccessKey = null }).Validate();              // the SDK's default chain
        (Target() with { AccessKeyId = null, ProtectedSecretAccessKey = null, ProfileName = "ci" }).Validate();
        Assert.Throws<ExportException>(() => (Target() with { ProtectedSecretAccessKey = null }).Validate());
        Assert.Throws<ExportException>(() => (Target() with { ProfileName = "ci" }).Validate());
        var plain = Assert.Throws<ExportException>(() => (Target() with { ProtectedSecretAccessKey = Secret }).Validate());
        Assert.Contains("stored protected", plain.Message);
        Assert.DoesNotContain(Secret, plain.ToString());
    }

    /// <summary>Two names for one location would overwrite each other's same-named exports; a used storage that
    /// moved would strand its files. A nested prefix is a different location, and credentials may rotate.</summary>
    [Fact]
    public void A_second_storage_at_the_same_location_or_a_used_one_moving_is_refused()
    {
        _home.Service.RegisterStorage(Target(), replace: false);
        var twin = Assert.Throws<ExportException>(() => _home.Service.RegisterStorage(Target() with { Name = "again", Endpoint = new Uri("HTTP://127.0.0.1:7480/") }, replace: false));
        Assert.Contains("'s3' already keeps its files at", twin.Message);
        _home.Service.RegisterStorage(Target() with { Name = "team", Prefix = "exports/team/" }, replace: false);

        _home.Catalog.AddExport(new ExportDefinition { Name = "uses", Query = "*", Storage = "s3", CreatedAt = DateTimeOffset.UtcNow });
        var moved = Assert.Throws<ExportException>(() => _home.Service.RegisterStorage(Target("other-bucket"), replace: true));
        Assert.Contains("holds the files of export(s) uses", moved.Message);
        _home.Service.RegisterStorage(Target() with { AccessKeyId = "AKIAROTATED" }, replace: true);
        Assert.Equal("AKIAROTATED", S3StorageTarget.Load(_home.Catalog, "s3")!.AccessKeyId);
    }

    [Fact]
    public void The_catalog_row_and_every_description_hold_no_secret()
    {
        var target = Target();
        _home.Service.RegisterStorage(target, replace: false);
        var row = _home.Catalog.FindRegistration(S3StorageTarget.RegistrationKind, "s3")!;
        Assert.Contains("\"enc:v1:", row);
        Assert.DoesNotContain(Secret, row);
        Assert.Equal(target, S3StorageTarget.Load(_home.Catalog, "s3"));
        Assert.Equal(["s3"], S3StorageTarget.List(_home.Catalog).Select(t => t.Name));
        foreach (var text in new[] { target.ToString(), target.Describe(), _home.Service.StoreOf("s3").Locate("daily", "daily.jsonl") })
        {
            Assert.DoesNotContain(Secret, text);
            Assert.DoesNotContain("enc:v1:", text);
        }
    }

    [Fact]
    public void An_unreachable_endpoint_is_a_storage_failure_that_names_the_storage_and_the_fix()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var store = new S3ArtifactStore(Target(endpoint: $"http://127.0.0.1:{closedPort}"), _home.Service.Vault);
        var error = Assert.Throws<ExportException>(() => store.ReadManifest("daily"));
        Assert.Equal(ExportErrorCode.StorageFailed, error.Code);
        Assert.Contains($"127.0.0.1:{closedPort}", error.Message);
        Assert.Contains("reachable", error.Message);
        Assert.DoesNotContain(Secret, error.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-60)]
    [InlineData(24 * 3600 + 1)]
    public void A_download_url_is_valid_for_more_than_nothing_and_at_most_a_day(int seconds)
    {
        using var store = new S3ArtifactStore(Target(), _home.Service.Vault);
        var error = Assert.Throws<ExportException>(() => store.Presign("daily", Manifest(), TimeSpan.FromSeconds(seconds), null));
        Assert.Equal(ExportErrorCode.InvalidOption, error.Code);
        Assert.Contains("24 hours", error.Message);
    }

    [Fact]
    public void A_download_url_keeps_the_endpoint_scheme_and_never_outlives_the_download_window()
    {
        using (var https = new S3ArtifactStore(Target(endpoint: "https://s3.example.net"), _home.Service.Vault))
        {
            var link = https.Presign("daily", Manifest(), TimeSpan.FromHours(24), null);
            Assert.Equal("https", link.Url.Scheme);
            Assert.Equal("/exports-bucket/exports/daily/daily.jsonl.gz", link.Url.AbsolutePath);
            Assert.InRange(link.ExpiresAt, DateTimeOffset.UtcNow.AddHours(23.9), DateTimeOffset.UtcNow.AddHours(24));
            Assert.Empty(link.Headers);
            Assert.DoesNotContain(Secret, link.Url.ToString());
        }
        using var http = new S3ArtifactStore(Target(), _home.Service.Vault);
        var windowEnd = DateTimeOffset.UtcNow.AddMinutes(10);
        var capped = http.Presign("daily", Manifest(expiresAt: windowEnd), TimeSpan.FromHours(2), null);
        Assert.Equal("http", capped.Url.Scheme);
        Assert.Equal(windowEnd, capped.ExpiresAt);
    }

    [Fact]
    public void An_encrypted_download_url_needs_the_right_key_and_carries_it_only_in_headers()
    {
        using var store = new S3ArtifactStore(Target(), _home.Service.Vault);
        var key = ArtifactKey.Generate();
        var manifest = Manifest(fingerprint: key.Fingerprint);

        var link = store.Presign("daily", manifest, TimeSpan.FromHours(1), key);
        Assert.Equal("AES256", link.Headers["x-amz-server-side-encryption-customer-algorithm"]);
        Assert.Equal(key.Reveal(), link.Headers["x-amz-server-side-encryption-customer-key"]);
        Assert.Equal(key.Fingerprint, link.Headers["x-amz-server-side-encryption-customer-key-MD5"]);
        Assert.DoesNotContain(Uri.EscapeDataString(key.Reveal()), link.Url.ToString());
        Assert.DoesNotContain(key.Reveal(), link.Url.ToString());

        Assert.Equal(ExportErrorCode.EncryptionKeyRequired,
            Assert.Throws<ExportException>(() => store.Presign("daily", manifest, TimeSpan.FromHours(1), null)).Code);
        var wrong = Assert.Throws<ExportException>(() => store.Presign("daily", manifest, TimeSpan.FromHours(1), ArtifactKey.Generate()));
        Assert.Equal(ExportErrorCode.EncryptionKeyMismatch, wrong.Code);
        Assert.Contains(key.Fingerprint, wrong.Message);
    }

    /// <summary>SSE-C puts the key in every request's headers: over plain http to another machine it would cross the network
    /// in the clear. Refused before any request (the host below does not resolve: a request would fail as StorageFailed).</summary>
    [Fact]
    public void An_encrypted_exports_key_goes_over_plain_http_only_to_this_machine_or_when_the_storage_allows_it()
    {
        var key = ArtifactKey.Generate();
        var manifest = Manifest(fingerprint: key.Fingerprint);
        using (var remote = new S3ArtifactStore(Target(endpoint: "http://s3.invalid:9000"), _home.Service.Vault))
        {
            var refusals = new Action[]
            {
                () => remote.Presign("daily", manifest, TimeSpan.FromHours(1), key),
                () => remote.BeginWrite("daily", "daily.jsonl.gz", "r", key),
                () => remote.OpenRead("daily", manifest, key),
            };
            foreach (var refused in refusals)
            {
                var error = Assert.Throws<ExportException>(refused);
                Assert.Equal(ExportErrorCode.InvalidOption, error.Code);
                Assert.Contains("http://s3.invalid:9000", error.Message);
                Assert.Contains("-AllowKeysOverHttp", error.Message);
                Assert.Contains("https", error.Message);
            }
            Assert.Empty(remote.Presign("daily", Manifest(), TimeSpan.FromHours(1), null).Headers); // unencrypted: nothing to leak
        }
        foreach (var endpoint in new[] { "https://s3.invalid", "http://localhost:7480", "http://[::1]:7480", "http://127.0.0.2:7480" })
        {
            using var store = new S3ArtifactStore(Target(endpoint: endpoint), _home.Service.Vault);
            Assert.Equal(key.Fingerprint, store.Presign("daily", manifest, TimeSpan.FromHours(1), key).Headers["x-amz-server-side-encryption-customer-key-MD5"]);
        }
        using (var trusted = new S3ArtifactStore(Target(endpoint: "http://s3.invalid:9000") with { AllowKeysOverHttp = true }, _home.Service.Vault))
            Assert.Equal(3, trusted.Presign("daily", manifest, TimeSpan.FromHours(1), key).Headers.Count);

        // New-Export -Encrypt on such storage is refused before the export exists.
        _home.LoadSample(Sample.SampleKind.Events, 5);
        _home.Service.RegisterStorage(Target(endpoint: "http://s3.invalid:9000"), replace: false);
        var create = Assert.Throws<ExportException>(() => _home.Service.Create(
            new ExportDefinition { Name = "secret", Query = "*", Storage = "s3", KeyFingerprint = key.Fingerprint }));
        Assert.Equal(ExportErrorCode.InvalidOption, create.Code);
        Assert.Null(_home.Catalog.FindExport("secret"));
    }

    [Fact]
    public void Parts_keep_their_size_for_5000_parts_then_double_every_1000_so_a_stream_of_unknown_size_reaches_523_GiB()
    {
        var plan = new PartPlan(8 << 20);
        Assert.Equal(8 << 20, plan.SizeOf(1));
        Assert.Equal(8 << 20, plan.SizeOf(5_000));
        Assert.Equal(16 << 20, plan.SizeOf(5_001));
        Assert.Equal(16 << 20, plan.SizeOf(6_000));
        Assert.Equal(32 << 20, plan.SizeOf(6_001));
        Assert.Equal(256 << 20, plan.SizeOf(10_000));
        Assert.Equal(67_000L * (8 << 20), plan.Capacity); // 5,000 + 1,000 × (2 + 4 + 8 + 16 + 32) parts' worth
        // The largest registrable parts grow only up to one array of 1 GiB.
        Assert.Equal(PartPlan.MaxPartSize, new PartPlan(512 << 20).SizeOf(10_000));
        Assert.True(new PartPlan(512 << 20).Capacity > 5L * 1024 * 1024 * 1024 * 1024); // past S3's largest object (5 TiB)
    }
}
