using System.Text;

namespace ExportsPS.Module.Tests;

/// <summary>Every kind of secret the module handles — basic-auth password, API key, bearer token, S3 secret
/// access key, SSE-C key, local encryption key — used in real runs with verbose and debug on; then every
/// stream, every cmdlet's output, the catalog, manifests and every other file in the data folder are
/// searched for the secret's bytes and its base64.</summary>
public sealed class SecretLeakTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    readonly SourceCmdletTests.CannedCluster _cluster = new();

    public void Dispose()
    {
        _cluster.Dispose();
        _ps.Dispose();
    }

    [ServiceFact("EXPORTSPS_TEST_S3_URL")]
    public void No_secret_appears_in_any_stream_output_catalog_manifest_or_file()
    {
        var s3Url = ServiceFactAttribute.Require("EXPORTSPS_TEST_S3_URL");
        var s3Access = ServiceFactAttribute.Require("EXPORTSPS_TEST_S3_ACCESS_KEY");
        var s3Secret = ServiceFactAttribute.Require("EXPORTSPS_TEST_S3_SECRET_KEY");
        const string password = "Pa55-w0rd-for-basic-auth";
        const string apiKey = "QXBpS2V5SWQ6YXBpLWtleS1zZWNyZXQ=";
        const string bearer = "eyJhbGciOiJIUzI1NiJ9.bearer-token-body.signature";
        var bucket = "exportsps-leak-" + Guid.NewGuid().ToString("N")[..10];
        StorageCmdletTests.CreateBucket(s3Url, s3Access, s3Secret, bucket);

        var script = $$"""
            $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'
            & {
              function Secure($text) { [System.Net.NetworkCredential]::new('', $text).SecurePassword }
              New-ExportSampleData -Count 300
              Register-ExportSource basic -Uri '{{_cluster.Url}}' -Credential ([pscredential]::new('reader', (Secure '{{password}}'))) -IndexMap @{ events = 'logs' }
              Register-ExportSource apikey -Uri '{{_cluster.Url}}' -ApiKey (Secure '{{apiKey}}')
              Register-ExportSource bearer -Uri '{{_cluster.Url}}' -BearerToken (Secure '{{bearer}}')
              Register-ExportStorage ceph -Bucket {{bucket}} -Endpoint '{{s3Url}}' -Credential ([pscredential]::new('{{s3Access}}', (Secure '{{s3Secret}}')))
              Test-ExportSource basic -Index events -Field 'source.*'
              New-Export from-cluster -Query '*' -Source basic -Format csv -Field '@timestamp','source.ip'
              $s3Key = New-Export sealed-s3 -Query '*' -Storage ceph -Encrypt | Where-Object Fingerprint
              $localKey = New-Export sealed-local -Query '*' -Encrypt -Compress | Where-Object Fingerprint
              $s3Key; $localKey
              Receive-ExportFile sealed-s3 -AsObject -EncryptionKey $s3Key.EncryptionKey | Out-Null
              Receive-ExportFile sealed-local -Destination '{{_ps.Home}}' -EncryptionKey $localKey.EncryptionKey
              Get-ExportDownloadUrl sealed-s3 -EncryptionKey $localKey.EncryptionKey
              Start-Export sealed-local -EncryptionKey 'bm90LXRoZS1rZXktbm90LXRoZS1rZXktbm90LXRoZS0='
              Get-ExportSource; Get-ExportStorage; Get-Export; Get-ExportStatus -Name sealed-s3 -History; Get-ExportAuditEvent
              'KEYS=' + [System.Net.NetworkCredential]::new('', $s3Key.EncryptionKey).Password + '|' + [System.Net.NetworkCredential]::new('', $localKey.EncryptionKey).Password
            } *>&1 | ForEach-Object {
              if ($_ -is [System.Management.Automation.ErrorRecord]) { "ERROR: $($_.FullyQualifiedErrorId) $_ $($_.Exception) $($_.TargetObject)" }
              elseif ($_ -is [string]) { $_ }
              elseif ($_ -is [System.Management.Automation.InformationalRecord]) { "$($_.GetType().Name): $($_.Message)" }
              else { ($_.PSObject.Properties | ForEach-Object { "$($_.Name) : $($_.Value)" }) -join "`n" }
            }
            """;
        var result = _ps.Run(script);
        Assert.True(result.Terminating is null, result.Terminating?.ToString());
        var text = string.Join("\n", result.Output.Select(o => o.ToString()));
        var keysLine = text.Split('\n').Single(l => l.StartsWith("KEYS=", StringComparison.Ordinal));
        var keys = keysLine["KEYS=".Length..].Trim().Split('|');
        Assert.Equal(2, keys.Length);
        text = text.Replace(keysLine, ""); // the test printed the keys itself, to know what to look for
        Assert.Contains("ERROR:", text); // the wrong key was refused: error text is part of what is searched

        var secrets = new Dictionary<string, byte[]>
        {
            ["password"] = Encoding.UTF8.GetBytes(password),
            ["api key"] = Encoding.UTF8.GetBytes(apiKey),
            ["bearer token"] = Encoding.UTF8.GetBytes(bearer),
            ["S3 secret"] = Encoding.UTF8.GetBytes(s3Secret),
            ["SSE-C key (raw)"] = Convert.FromBase64String(keys[0]),
            ["local key (raw)"] = Convert.FromBase64String(keys[1]),
        };
        var needles = secrets.SelectMany(s => new[]
        {
            (s.Key, s.Value),
            (s.Key + " as base64", Encoding.ASCII.GetBytes(Convert.ToBase64String(s.Value))),
        }).ToList();
        needles.Add(("basic auth header", Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes("reader:" + password)))));

        var haystacks = new List<(string Where, byte[] Bytes)> { ("pipeline output and all streams", Encoding.UTF8.GetBytes(text)) };
        haystacks.AddRange(Directory.EnumerateFiles(_ps.Home, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("keys" + Path.DirectorySeparatorChar, StringComparison.Ordinal)) // the master key file is the one secret that belongs there
            .Select(f => (f, File.ReadAllBytes(f))));
        var checks = 0;
        foreach (var (where, bytes) in haystacks)
            foreach (var (what, needle) in needles)
            {
                checks++;
                Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{what} found in {where}");
            }
        Assert.Contains("Authentication : Basic", text);
        Assert.Contains("Fingerprint : ", text);
        Assert.Contains("EncryptionKeyMismatch", text);
        Assert.Contains(haystacks, h => h.Where.EndsWith("catalog.db", StringComparison.Ordinal));
        Assert.Contains(haystacks, h => h.Where.EndsWith(".manifest.json", StringComparison.Ordinal));
        ReliabilityReport.Record("secrets", $"6 secrets (password, API key, bearer token, S3 secret, SSE-C key, local key) x raw+base64 searched in " +
            $"{haystacks.Count} places (all streams incl. verbose/debug/error, catalog, manifests, every data-folder file): {checks:N0} checks, 0 found");
    }
}
