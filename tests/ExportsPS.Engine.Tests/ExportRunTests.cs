using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;

namespace ExportsPS.Engine.Tests;

public sealed class ExportRunTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    [Fact]
    public void Jsonl_gzip_export_writes_every_match_and_a_manifest_that_verifies()
    {
        _home.LoadSample(SampleKind.Events, 5_000);
        var run = _home.Run(new ExportDefinition { Name = "failures", Query = "event.outcome:failure", Compression = CompressionKind.Gzip });

        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.True(run.Records > 0);
        var manifest = _home.Service.RequireArtifact("failures");
        var path = Path.Combine(_home.Home.ExportsFolder, "failures", "failures.jsonl.gz");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(manifest.Bytes, bytes.Length);
        Assert.Equal(manifest.Sha256, Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());
        using var reader = new StreamReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress));
        var lines = 0;
        while (reader.ReadLine() is { } line)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal("failure", doc.RootElement.GetProperty("event").GetProperty("outcome").GetString());
            lines++;
        }
        Assert.Equal(run.Records, lines);
        Assert.Equal(manifest.Records, lines);
    }
}
