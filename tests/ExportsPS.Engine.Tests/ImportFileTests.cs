using System.IO.Compression;
using System.Text;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Sources.Embedded;

namespace ExportsPS.Engine.Tests;

/// <summary>Import-ExportData -Path: JSON arrays, JSONL and gzip of either, read from real files.</summary>
public sealed class ImportFileTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    const string Lines = "{\"id\":1,\"user\":\"alice\"}\n\n{\"id\":2,\"user\":\"bob\"}\n{\"id\":3,\"user\":\"carol\"}\n";
    const string Array = "\uFEFF  [ {\"id\":1,\"user\":\"alice\"}, {\"id\":2,\"user\":\"bob\"}, {\"id\":3,\"user\":\"carol\"} ]";

    string Write(string name, string text, bool gzip)
    {
        var path = Path.Combine(_home.Root, name);
        using var file = File.Create(path);
        using Stream target = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        target.Write(Encoding.UTF8.GetBytes(text));
        return path;
    }

    [Theory]
    [InlineData("events.jsonl", Lines, false)]
    [InlineData("events.jsonl.gz", Lines, true)]
    [InlineData("events.json", Array, false)]
    [InlineData("events.json.gz", Array, true)]
    public void A_file_of_each_kind_imports_every_document(string name, string content, bool gzip)
    {
        var path = Write(name, content, gzip);
        var result = _home.Service.Import("files", EmbeddedImporter.ReadFile(path), new ImportOptions(), null, CancellationToken.None);
        Assert.Equal(3, result.Documents);
        var run = _home.Run(new ExportDefinition { Name = "back", Index = "files", Query = "*" });
        Assert.True(run.Status == Runs.RunStatus.Completed, run.Error);
        Assert.Equal(["alice", "bob", "carol"], _home.Service.ReadRecords("back", CancellationToken.None).Select(r => r.GetProperty("user").GetString()!).Order());
    }

    [Fact]
    public void A_bad_line_in_a_gzip_file_is_named_and_nothing_is_imported()
    {
        var path = Write("bad.jsonl.gz", "{\"id\":1}\n{\"id\":\n", gzip: true);
        var error = Assert.Throws<ExportException>(() =>
            _home.Service.Import("files", EmbeddedImporter.ReadFile(path), new ImportOptions(), null, CancellationToken.None));
        Assert.Contains("Line 2 of", error.Message);
    }

    [Fact]
    public void A_lone_surrogate_escape_is_imported_as_a_replacement_character_not_an_aborted_import()
    {
        // A truncated emoji, as logs often hold: GetString() throws on it.
        var result = _home.Load("lossy", "{\"msg\":\"cut \\ud83d here\",\"n\":1}", "{\"msg\":\"fine\",\"n\":2}");
        Assert.Equal(2, result.Documents);
        var run = _home.Run(new ExportDefinition { Name = "lossy", Index = "lossy", Query = "msg:cut" });
        Assert.Equal(1L, run.Records);
    }
}
