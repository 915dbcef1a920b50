using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources.Embedded;

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

    /// <summary>A csv without -Field takes the index's first fields; the ones it leaves out are named in a
    /// warning, not dropped in silence. An index that fits gets no warning.</summary>
    [Fact]
    public void Csv_without_fields_warns_about_the_fields_it_leaves_out()
    {
        var wide = Enumerable.Range(0, 31).ToDictionary(i => $"f{i:00}", i => (object)i);
        _home.Service.Import("wide", [JsonSerializer.SerializeToElement(wide)], new ImportOptions(), null, CancellationToken.None);
        var run = _home.Run(new ExportDefinition { Name = "wide-csv", Index = "wide", Query = "*", Format = "csv" });
        Assert.Equal(RunStatus.Completed, run.Status);
        var warning = Assert.Single(run.Warnings);
        Assert.Contains("takes the first 25 of the index's 31 fields; 6 are not in the file (f25, f26, f27, f28, f29, …)", warning);
        Assert.Equal(25, File.ReadLines(Path.Combine(_home.Home.ExportsFolder, "wide-csv", "wide-csv.csv")).First().Split(',').Length);

        var narrow = Enumerable.Range(0, 25).ToDictionary(i => $"g{i:00}", i => (object)i);
        _home.Service.Import("narrow", [JsonSerializer.SerializeToElement(narrow)], new ImportOptions(), null, CancellationToken.None);
        Assert.Empty(_home.Run(new ExportDefinition { Name = "narrow-csv", Index = "narrow", Query = "*", Format = "csv" }).Warnings);
    }
}
