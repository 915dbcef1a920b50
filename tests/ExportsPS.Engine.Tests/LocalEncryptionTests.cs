using System.Security.Cryptography;
using System.Text;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Storage;

namespace ExportsPS.Engine.Tests;

/// <summary>-Encrypt on local storage: AES-256-GCM at rest, chunked and authenticated, streamed both ways.</summary>
public sealed class LocalEncryptionTests : IDisposable
{
    readonly TestHome _home = new();
    readonly ArtifactKey _key = ArtifactKey.Generate();
    public void Dispose() => _home.Dispose();

    string FilePath => Path.Combine(_home.Home.ExportsFolder, "sealed", "sealed.jsonl");

    RunRecord RunSealed()
    {
        _home.LoadSample(SampleKind.Events, 2000);
        _home.Service.Create(new ExportDefinition { Name = "sealed", Query = "*", KeyFingerprint = _key.Fingerprint });
        return _home.Service.Start("sealed", RunTrigger.Manual, _key).Completion.GetAwaiter().GetResult();
    }

    [Fact]
    public async Task The_file_at_rest_is_ciphertext_and_reads_back_verified_with_the_key()
    {
        var run = RunSealed();
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        var atRest = File.ReadAllBytes(FilePath);
        Assert.DoesNotContain("@timestamp", Encoding.UTF8.GetString(atRest));
        Assert.StartsWith("EXPSGCM1", Encoding.ASCII.GetString(atRest, 0, 8));
        var manifest = _home.Service.RequireArtifact("sealed");
        Assert.Equal((ChunkedAesGcm.Name, _key.Fingerprint), (manifest.Encryption, manifest.KeyFingerprint));

        var target = Path.Combine(_home.Root, "plain.jsonl");
        await _home.Service.ReceiveAsync("sealed", target, false, null, CancellationToken.None, _key);
        Assert.Equal(run.Sha256, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(target))).ToLowerInvariant());
        Assert.Equal(2000, _home.Service.ReadRecords("sealed", CancellationToken.None, _key).Count());

        Assert.Equal(ExportErrorCode.EncryptionKeyMismatch,
            Assert.Throws<ExportException>(() => _home.Service.ReadRecords("sealed", CancellationToken.None, ArtifactKey.Generate()).Count()).Code);
        Assert.Equal(ExportErrorCode.EncryptionKeyRequired,
            Assert.Throws<ExportException>(() => _home.Service.ReadRecords("sealed", CancellationToken.None).Count()).Code);
    }

    /// <summary>A run killed after writing its manifest temp but before its file's rename leaves both temps. The
    /// sweep must discard them whatever order the file system lists them in: had it deleted the data temp first, the
    /// pair would look like a commit torn after the rename, and (encrypted files have no sha256 to check) the dead
    /// run's manifest would be published over the old file, which then fails every download.</summary>
    [Fact]
    public void A_run_killed_before_its_files_rename_leaves_the_old_file_and_manifest_served()
    {
        var old = RunSealed();
        Assert.Equal(RunStatus.Completed, old.Status);
        var folder = Path.GetDirectoryName(FilePath)!;
        var oldManifest = File.ReadAllBytes(FilePath + ".manifest.json");
        for (var i = 0; i < 8; i++) // several run ids: directory listing order follows the names' hashes
        {
            var dead = Guid.NewGuid().ToString("N");
            var dataTemp = Path.Combine(folder, $".tmp-{dead}-sealed.jsonl");
            var deadManifest = System.Text.Json.Nodes.JsonNode.Parse(oldManifest)!;
            deadManifest["runId"] = dead;
            deadManifest["records"] = 1;
            if (i % 2 == 0) File.WriteAllBytes(dataTemp, [1, 2, 3]);
            File.WriteAllText(dataTemp + ".manifest.json", deadManifest.ToJsonString());
            if (i % 2 == 1) File.WriteAllBytes(dataTemp, [1, 2, 3]);
            _home.Service.Recover();
            Assert.Equal(old.Id, _home.Service.RequireArtifact("sealed").RunId);
            Assert.Equal(["sealed.jsonl", "sealed.jsonl.manifest.json"], Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order());
        }
        Assert.Equal(2000, _home.Service.ReadRecords("sealed", CancellationToken.None, _key).Count());
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("append")]
    public void A_tampered_or_truncated_file_is_refused(string damage)
    {
        Assert.Equal(RunStatus.Completed, RunSealed().Status);
        var bytes = File.ReadAllBytes(FilePath).ToList();
        switch (damage)
        {
            case "flip": bytes[bytes.Count / 2] ^= 0x01; break;
            case "truncate": bytes.RemoveRange(bytes.Count - 100, 100); break;
            case "append": bytes.AddRange(new byte[21]); break;
        }
        File.WriteAllBytes(FilePath, bytes.ToArray());
        var error = Assert.Throws<ExportException>(() => _home.Service.ReadRecords("sealed", CancellationToken.None, _key).Count());
        Assert.Equal(ExportErrorCode.ArtifactCorrupt, error.Code);
    }

    [Fact]
    public void An_encrypted_stream_of_any_length_round_trips()
    {
        foreach (var length in new[] { 0, 1, 65535, 65536, 65537, 300_000 })
        {
            var data = RandomNumberGenerator.GetBytes(length);
            using var file = new MemoryStream();
            var writer = new ChunkedAesGcm.EncryptingStream(file, _key);
            writer.Write(data);
            writer.Finish();
            file.Position = 0;
            using var reader = new ChunkedAesGcm.DecryptingStream(file, _key, "x");
            using var back = new MemoryStream();
            reader.CopyTo(back);
            Assert.Equal(data, back.ToArray());
        }
    }
}
