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
    [Theory]
    [InlineData("empty.jsonl", "", false)]
    [InlineData("empty.json", "[]", false)]
    [InlineData("empty.jsonl.gz", "", true)]
    public void Replace_with_an_input_of_no_documents_leaves_the_index_as_it_was(string name, string content, bool gzip)
    {
        _home.Service.Import("kept", EmbeddedImporter.ReadFile(Write("three.jsonl", Lines, false)), new ImportOptions(), null, CancellationToken.None);
        var error = Assert.Throws<ExportException>(() =>
            _home.Service.Import("kept", EmbeddedImporter.ReadFile(Write(name, content, gzip)), new ImportOptions { Replace = true }, null, CancellationToken.None));
        Assert.Equal(ExportErrorCode.InvalidData, error.Code);
        Assert.Contains("left as it was", error.Message);
        Assert.Equal(3, _home.Service.Indexes.CountDocuments("kept"));
        var run = _home.Run(new ExportDefinition { Name = "still", Index = "kept", Query = "user:bob" });
        Assert.Equal((Runs.RunStatus.Completed, 1L), (run.Status, run.Records ?? -1));
    }

    /// <summary>As many bad documents in a row as there are indexing threads, after the queue has filled: every
    /// indexer dies, and the reader waited for ever on the full queue. Now the first failure stops the reader.</summary>
    [Fact]
    public void Bad_documents_that_stop_every_indexer_fail_the_import_instead_of_hanging_it()
    {
        // Documents slower to index than to read (a long text field), so the reader fills the queue and waits on it.
        var words = string.Join(' ', Enumerable.Range(0, 150).Select(w => $"word{w}"));
        var text = new StringBuilder();
        for (var i = 0; i < 30_000; i++) text.Append("{\"id\":").Append(i).Append(",\"message\":\"").Append(words).Append("\"}\n");
        for (var i = 0; i < 64; i++) text.Append("42\n");       // a number, not an object: every indexer that takes one fails
        for (var i = 0; i < 20_000; i++) text.Append("{\"id\":").Append(i).Append("}\n");
        var path = Write("poisoned.jsonl", text.ToString(), false);
        var import = Task.Run(() => _home.Service.Import("poisoned", EmbeddedImporter.ReadFile(path), new ImportOptions(), null, CancellationToken.None));
        Assert.True(Task.WhenAny(import, Task.Delay(TimeSpan.FromSeconds(60))).GetAwaiter().GetResult() == import, "the import hung");
        var error = Assert.IsType<ExportException>(import.Exception!.InnerException);
        Assert.Equal(ExportErrorCode.InvalidData, error.Code);
        Assert.False(_home.Service.Indexes.Exists("poisoned"));   // nothing was imported
    }

    [Fact]
    public void A_canceled_import_says_it_was_canceled()
    {
        using var cancel = new CancellationTokenSource();
        IEnumerable<System.Text.Json.JsonElement> Endless()
        {
            for (var i = 0; ; i++)
            {
                if (i == 50_000) cancel.Cancel();
                yield return System.Text.Json.JsonDocument.Parse($"{{\"id\":{i}}}").RootElement;
            }
        }
        Assert.ThrowsAny<OperationCanceledException>(() => _home.Service.Import("endless", Endless(), new ImportOptions(), null, cancel.Token));
    }
    /// <summary>Another process importing into the index holds its import lock: this import is refused before it
    /// touches the index, which two writers in two processes destroyed.</summary>
    [Fact]
    public void An_import_while_another_process_imports_into_the_index_is_refused_and_the_index_survives()
    {
        _home.Service.Import("shared", EmbeddedImporter.ReadFile(Write("three.jsonl", Lines, false)), new ImportOptions(), null, CancellationToken.None);
        using (File.Open(Path.Combine(_home.Service.Indexes.FolderOf("shared"), "import.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var error = Assert.Throws<ExportException>(() =>
                _home.Service.Import("shared", EmbeddedImporter.ReadFile(Write("more.jsonl", Lines, false)), new ImportOptions(), null, CancellationToken.None));
            Assert.Equal(ExportErrorCode.SourceFailed, error.Code);
            Assert.Contains("another import", error.Message);
        }
        Assert.Equal(3, _home.Service.Indexes.CountDocuments("shared"));
        _home.Service.Import("shared", EmbeddedImporter.ReadFile(Write("more.jsonl", Lines, false)), new ImportOptions(), null, CancellationToken.None);
        Assert.Equal(6, _home.Service.Indexes.CountDocuments("shared"));
    }

    /// <summary>The first document with a field decides its type, and fields are listed in the order documents
    /// introduce them, however the indexing threads interleave: an import of the same data maps it the same way.</summary>
    [Fact]
    public void Dynamic_mapping_follows_document_order_not_thread_timing()
    {
        // Pairs of neighbours disagree about a new field: a word first, then a number. Indexed on several threads, the
        // number's document often reached the mapping first, so the field became long and the word was malformed.
        const int Pairs = 400;
        var known = string.Join(",", Enumerable.Range(0, 200).Select(k => $"\"a{k}\":{k}"));
        IEnumerable<System.Text.Json.JsonElement> Documents()
        {
            for (var i = 0; i < Pairs; i++)
            {
                // The word comes after 200 fields to index, the number first: the number's thread tends to get there first.
                yield return System.Text.Json.JsonDocument.Parse($"{{{known},\"f{i}\":\"word\"}}").RootElement;
                yield return System.Text.Json.JsonDocument.Parse($"{{\"f{i}\":{i}}}").RootElement;
            }
        }
        // Parsed up front, so the queue is full and both indexing threads take neighbours at the same time.
        var result = _home.Service.Import("ordered", Documents().ToList(), new ImportOptions(), null, CancellationToken.None);
        Assert.Equal(0, result.MalformedValues);
        var mapping = _home.Service.Indexes.LoadMapping("ordered");
        Assert.All(Enumerable.Range(0, Pairs), i => Assert.Equal(FieldKind.Text, mapping.Fields[$"f{i}"]));
        var expectedOrder = Enumerable.Range(0, 200).Select(k => $"a{k}").Concat(Enumerable.Range(0, Pairs).Select(i => $"f{i}"));
        Assert.Equal(expectedOrder, mapping.FieldOrder);
    }

    /// <summary>OpenSearch's total_fields limit: a document that would map field 1,001 fails the import (which
    /// commits nothing) with a message saying how to import such data; -MappedFieldsOnly imports it.</summary>
    [Fact]
    public void A_document_that_would_map_more_than_1000_fields_is_refused_with_the_way_out()
    {
        static System.Text.Json.JsonElement Keys(int from, int count) => System.Text.Json.JsonDocument.Parse(
            "{" + string.Join(",", Enumerable.Range(from, count).Select(k => $"\"user-{k}\":\"seen\"")) + "}").RootElement;
        var fits = _home.Service.Import("wide", [Keys(0, IndexMapping.MaxFields)], new ImportOptions(), null, CancellationToken.None);
        Assert.Equal(IndexMapping.MaxFields, _home.Service.Indexes.LoadMapping("wide").Fields.Count);

        var error = Assert.Throws<ExportException>(() => _home.Service.Import("wide", [Keys(0, 10), Keys(995, 10)], new ImportOptions(), null, CancellationToken.None));
        Assert.Equal(ExportErrorCode.InvalidData, error.Code);
        Assert.Contains("Document 2 cannot be imported: its field 'user-1000' would take the index over its limit of 1,000 fields", error.Message);
        Assert.Contains("-MappedFieldsOnly", error.Message);
        Assert.Equal(fits.TotalDocuments, _home.Service.Indexes.CountDocuments("wide"));

        var mapped = _home.Service.Import("mapped", [Keys(0, 3 * IndexMapping.MaxFields)],
            new ImportOptions { Mapping = new Dictionary<string, string> { ["user-1"] = "keyword" }, MappedFieldsOnly = true }, null, CancellationToken.None);
        Assert.Equal(1, mapped.Documents);
    }

    /// <summary>An index mapped before the limit can hold more text fields than one query can search: a bare term
    /// is refused saying to name the field, rather than with Lucene's too-many-clauses error.</summary>
    [Fact]
    public void A_bare_term_on_an_index_with_more_text_fields_than_a_query_can_search_asks_for_a_field()
    {
        var folder = Path.Combine(_home.Root, "legacy");
        Directory.CreateDirectory(folder);
        var fields = string.Join(",", Enumerable.Range(0, 1_100).Select(k => $"\"f{k}\":\"text\""));
        var order = string.Join(",", Enumerable.Range(0, 1_100).Select(k => $"\"f{k}\""));
        File.WriteAllText(Path.Combine(folder, "mapping.json"), $"{{\"Fields\":{{{fields}}},\"FieldOrder\":[{order}]}}");
        var mapping = IndexMapping.Load(folder);
        using var analyzer = EmbeddedIndexStore.CreateAnalyzer();
        var error = Assert.Throws<ExportException>(() => EmbeddedQueryParser.Parse("alice", mapping, analyzer, DateTimeOffset.UtcNow));
        Assert.Equal(ExportErrorCode.InvalidQuery, error.Code);
        Assert.Contains("Name the field to search: field:term", error.Message);
        Assert.NotNull(EmbeddedQueryParser.Parse("f7:alice", mapping, analyzer, DateTimeOffset.UtcNow));
    }

    /// <summary>A refused -Mapping left Lucene's writer open, whose in-process lock then refused every later import
    /// into the index as concurrent until the process ended.</summary>
    [Fact]
    public void A_refused_mapping_leaves_the_index_free_for_the_next_import()
    {
        var doc = System.Text.Json.JsonDocument.Parse("{\"a\":1}").RootElement;
        _home.Service.Import("free", [doc], new ImportOptions(), null, CancellationToken.None);
        var error = Assert.Throws<ExportException>(() => _home.Service.Import("free", [doc],
            new ImportOptions { Mapping = new Dictionary<string, string> { ["b"] = "colour" } }, null, CancellationToken.None));
        Assert.Contains("Mapping type 'colour'", error.Message);
        Assert.Equal(2, _home.Service.Import("free", [doc], new ImportOptions(), null, CancellationToken.None).TotalDocuments);
    }
}
