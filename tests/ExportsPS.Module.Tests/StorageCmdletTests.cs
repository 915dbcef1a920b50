using System.Net;
using ExportsPS.Tests.Shared;

namespace ExportsPS.Module.Tests;

/// <summary>The storage cmdlets in a hosted runspace against the real S3 server .ci/run starts (radosgw).</summary>
public sealed class StorageCmdletTests : IDisposable
{
    const string UrlVariable = "EXPORTSPS_TEST_S3_URL";
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    [ServiceFact(UrlVariable)]
    public async Task Encrypted_export_to_a_bucket_round_trips_through_the_cmdlets_and_a_presigned_url()
    {
        var url = ServiceFactAttribute.Require(UrlVariable);
        var access = ServiceFactAttribute.Require("EXPORTSPS_TEST_S3_ACCESS_KEY");
        var secret = ServiceFactAttribute.Require("EXPORTSPS_TEST_S3_SECRET_KEY");
        var bucket = "exportsps-ps-" + Guid.NewGuid().ToString("N")[..12];
        _ps.Ok($"$cred = [pscredential]::new('{access}', [System.Net.NetworkCredential]::new('', '{secret}').SecurePassword); " +
               $"Register-ExportStorage ceph -Bucket {bucket} -Endpoint '{url}' -Credential $cred -Prefix team | Out-Null");
        CreateBucket(url, access, secret, bucket);
        var listed = _ps.Ok("Get-ExportStorage | ForEach-Object { '{0}|{1}|{2}' -f $_.Name, $_.Credentials, $_.Location }").Select(o => o.ToString()).ToList();
        Assert.Equal("local", listed[0].Split('|')[0]);
        Assert.Contains($"ceph|access key {access}|", listed[1]);
        Assert.DoesNotContain(secret, string.Join("\n", listed));

        var created = _ps.Run("New-ExportSampleData -Count 1000 | Out-Null; New-Export sealed -Query '*' -Storage ceph -Encrypt -Compress");
        Assert.Null(created.Terminating);
        Assert.Empty(created.Errors);
        Assert.Contains(created.Warnings, w => w.Contains("Save it now"));
        var keyInfo = created.Output.First(o => o.Properties["Fingerprint"] is not null);
        var run = created.Output.Last();
        Assert.Equal("Completed", run.Properties["Status"].Value.ToString());
        Assert.StartsWith(url, (string)run.Properties["Location"].Value);
        var key = keyInfo.Properties["EncryptionKey"].Value;

        Assert.Equal("EncryptionKeyRequired,ExportsPS.Commands.ReceiveExportFileCommand", _ps.Run("Receive-ExportFile sealed -AsObject").ErrorId);
        Assert.Equal("EncryptionKeyMismatch,ExportsPS.Commands.StartExportCommand",
            _ps.Run("Start-Export sealed -EncryptionKey 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='").ErrorId);
        var vars = new Dictionary<string, object?> { ["key"] = key };
        Assert.Equal(1000, _ps.Run("Receive-ExportFile sealed -AsObject -EncryptionKey $key", vars).Output.Count);
        var file = _ps.Run($"Receive-ExportFile sealed -Destination '{_ps.Home}' -EncryptionKey $key", vars);
        Assert.Empty(file.Errors);
        Assert.True(File.Exists(((FileInfo)file.Output.Single().BaseObject).FullName));
        Assert.Equal("RecordCapExceeded,ExportsPS.Commands.ReceiveExportFileCommand",
            _ps.Run($"Receive-ExportFile sealed -Destination '{_ps.Home}/small.gz' -EncryptionKey $key -MaxSize 100", vars).ErrorId);

        var link = _ps.Run("Get-ExportDownloadUrl sealed -ValidFor 00:10:00 -EncryptionKey $key", vars).Output.Single();
        var headers = (System.Collections.Hashtable)link.Properties["Headers"].Value;
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, (Uri)link.Properties["Url"].Value);
        foreach (System.Collections.DictionaryEntry header in headers) request.Headers.Add((string)header.Key, (string)header.Value!);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((long)link.Properties["Bytes"].Value, (await response.Content.ReadAsByteArrayAsync()).LongLength);

        Assert.Contains("no scheduler can run it", _ps.Run("Set-ExportSchedule sealed -Interval 1:00:00").Errors.Single().ToString());
        Assert.Contains("sealed", _ps.Run("Unregister-ExportStorage ceph -Confirm:$false").Errors.Single().ToString());
        _ps.Ok("Remove-Export sealed -Confirm:$false; Unregister-ExportStorage ceph -Confirm:$false");
        foreach (var path in Directory.EnumerateFiles(_ps.Home, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path)));
    }

    /// <summary>An SSE-C key over plain http to another machine would cross the network in the clear: New-Export -Encrypt
    /// refuses it before the export (or its key) exists, unless the storage was registered with -AllowKeysOverHttp.</summary>
    [Fact]
    public void An_encrypted_export_refuses_an_http_endpoint_on_another_machine_unless_the_storage_allows_it()
    {
        _ps.Ok("New-ExportSampleData -Count 10 | Out-Null; Register-ExportStorage lan -Bucket exports -Endpoint http://s3.invalid:9000 | Out-Null");
        var refused = _ps.Run("New-Export sealed -Query '*' -Storage lan -Encrypt");
        Assert.Equal("InvalidOption,ExportsPS.Commands.NewExportCommand", refused.ErrorId);
        Assert.Contains("-AllowKeysOverHttp", refused.Errors.Single().ToString());
        Assert.DoesNotContain(refused.Warnings, w => w.Contains("Save it now"));
        Assert.Empty(_ps.Ok("Get-Export"));

        var allowed = _ps.Ok("Register-ExportStorage lan -Bucket exports -Endpoint http://s3.invalid:9000 -AllowKeysOverHttp -Force").Single();
        Assert.Equal(true, allowed.Properties["AllowKeysOverHttp"].Value);
        Assert.Equal("True", _ps.Ok("(Get-ExportStorage lan).AllowKeysOverHttp").Single().ToString());
    }

    /// <summary>Buckets are made by admins, not by ExportsPS: the test makes one with the server's admin path
    /// (a SigV4-signed PUT of an empty body via curl's AWS signing; the test host must not load the AWS SDK itself).</summary>
    internal static void CreateBucket(string url, string access, string secret, string bucket)
    {
        var curl = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("curl",
            ["-sf", "-X", "PUT", "-H", "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", $"{access}:{secret}", $"{url}/{bucket}"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        curl.WaitForExit();
        Assert.Equal(0, curl.ExitCode);
    }
}
