using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Json;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.Embedded;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Util;

namespace ExportsPS.Engine.Tests;

/// <summary>Leaf records (a document's csv cells, worked out at import) must give exactly the cells the csv extractor
/// takes from the JSON, and an export must fall back to the JSON wherever a document, a segment or a column has none.</summary>
public sealed class LeafRecordTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    /// <summary>Documents that stress what a path or a cell is: dotted and escaped names, empty and dot-edged keys,
    /// arrays of scalars, arrays and objects, nulls, escapes, lone surrogates, invalid UTF-8 and numbers after empty cells.</summary>
    static readonly byte[][] Awkward =
    [
        """{"source":{"ip":"10.0.0.1","port":443},"source.ip":"dotted","source\u002egeo":{"city":"Z\u00fcrich"}}"""u8.ToArray(),
        """{"tags":["a","b",null,["c",1]],"n":-5,"e":1.5e10,"t":true,"f":false,"z":null,"big":123456789012345678901234567890}"""u8.ToArray(),
        """{"s":"line\nbreak \"q\" \u00e9 \ud83d\ude00","lone":"x\udc00y","":"empty key",".x":1,"a":{"":2,".b":3},"a..c":4}"""u8.ToArray(),
        """{"arr":[{"k":1},{"k":"two"},{"k":[3,null]}],"empty":{},"emptyArr":[],"es":"","after_empty":["",5],"nums":[1,2]}"""u8.ToArray(),
        """{"\udc00name":"lone name","esc\"aped":"q","source":{"geo.city":"nested dotted"},"m":"-x","formula":"=1+1"}"""u8.ToArray(),
        """{"":{"x":"under an empty name","":{"y":1}},"e":{"":{"x":2}}}"""u8.ToArray(),
        [.. """{"bad":"ok """u8, 0xFF, 0xFE, .. """ end","fine":"caf"""u8, 0xC3, 0xA9, .. "\"}"u8],
    ];

    static IEnumerable<byte[]> Documents() =>
        Awkward
            .Concat(SampleDataGenerator.Generate(SampleKind.Events, 300, 3, TestHome.SampleEnd, TimeSpan.FromDays(7)).Select(e => JsonSerializer.SerializeToUtf8Bytes(e)))
            .Concat(SampleDataGenerator.Generate(SampleKind.Attributes, 300, 3, TestHome.SampleEnd, TimeSpan.FromDays(7)).Select(e => JsonSerializer.SerializeToUtf8Bytes(e)));

    static List<string> PathsOf(LeafPaths paths) =>
        JsonDocument.Parse(paths.ToJson()).RootElement.GetProperty("Paths").EnumerateArray().Select(p => p.GetString()!).ToList();

    [Fact]
    public void Cells_from_leaf_records_are_the_cells_the_extractor_takes_from_the_json()
    {
        var paths = new LeafPaths();
        var writer = new LeafRecordWriter(paths);
        var documents = Documents().ToList();
        var records = documents.Select(d => writer.Write(d)?.ToArray() ?? throw new Xunit.Sdk.XunitException("no leaf record for " + Encoding.UTF8.GetString(d))).ToList();

        // Every path that never held an object, twice over (two columns may name one path), and one no document has.
        var leafPaths = PathsOf(paths).Where(p => paths.MapColumns([p]) is not null).ToList();
        Assert.Contains("source.geo.city", leafPaths);
        Assert.Contains("arr.k", leafPaths);
        Assert.Contains("a..b", leafPaths);
        Assert.Contains(".x", leafPaths);
        Assert.Contains("..y", leafPaths);
        Assert.DoesNotContain("source", leafPaths);
        var columns = leafPaths.Concat(["no.such.field", "source.ip", "tags"]).ToList();
        var map = paths.MapColumns(columns)!;
        var fromJson = new ColumnExtractor(columns, '|');
        var fromLeaves = new ColumnExtractor(columns, '|');
        var compared = 0;
        for (var d = 0; d < documents.Count; d++)
        {
            fromJson.Extract(documents[d]);
            fromLeaves.ExtractLeaves(records[d], map);
            for (var c = 0; c < columns.Count; c++)
            {
                var expected = fromJson[c].ToArray();
                Assert.True(expected.AsSpan().SequenceEqual(fromLeaves[c]),
                    $"document {d}, column {columns[c]}: json '{Encoding.UTF8.GetString(expected)}', leaves '{Encoding.UTF8.GetString(fromLeaves[c])}'");
                Assert.Equal(fromJson.IsNumber(c), fromLeaves.IsNumber(c));
                if (expected.Length > 0) compared++;
            }
        }
        Assert.True(compared > 5_000, $"only {compared} non-empty cells compared");
        // Spot checks that the awkward cases are really exercised, not empty on both sides.
        fromLeaves.ExtractLeaves(records[0], map);
        Assert.Equal("10.0.0.1|dotted", Encoding.UTF8.GetString(fromLeaves[columns.IndexOf("source.ip")]));
        fromLeaves.ExtractLeaves(records[6], map);
        Assert.Equal("ok \uFFFD\uFFFD end", Encoding.UTF8.GetString(fromLeaves[columns.IndexOf("bad")]));
        fromLeaves.ExtractLeaves(records[3], map);
        Assert.Equal("|5", Encoding.UTF8.GetString(fromLeaves[columns.IndexOf("after_empty")]));
        Assert.False(fromLeaves.IsNumber(columns.IndexOf("after_empty")));
    }

    [Fact]
    public void A_column_naming_an_object_and_a_name_that_is_not_utf8_fall_back_to_the_json()
    {
        var paths = new LeafPaths();
        var writer = new LeafRecordWriter(paths);
        Assert.NotNull(writer.Write(Awkward[0]));
        Assert.NotNull(writer.Write(Awkward[3]));
        Assert.Null(paths.MapColumns(["source.ip", "source"]));   // the object's JSON text is not in the records
        Assert.Null(paths.MapColumns(["arr"]));                   // an array of objects, too
        Assert.Null(paths.MapColumns(["empty"]));
        Assert.NotNull(paths.MapColumns(["source.ip", "arr.k", "emptyArr"]));
        // Raw name bytes that are not UTF-8: the extractor compares them byte by byte, which a decoded path cannot mimic.
        Assert.Null(writer.Write([.. """{"ok":1,"na"""u8, 0xFF, .. "me\":2}"u8]));
        Assert.Null(writer.Write("[1,2]"u8));
    }

    [Fact]
    public void The_path_list_is_capped_keeps_its_numbers_through_a_save_and_refuses_damage()
    {
        var paths = new LeafPaths();
        var writer = new LeafRecordWriter(paths);
        var record = writer.Write("""{"kept":"yes","n":[1,2],"o":{"x":true}}"""u8)!.Value.ToArray();
        for (var i = 0; paths.Count < LeafPaths.MaxPaths; i++) Assert.True(paths.IdOf("filler" + i) >= 0);
        Assert.Equal(-1, paths.IdOf("one.too.many"));
        Assert.Null(writer.Write("""{"kept":"still","new":"path"}"""u8)); // exported from its JSON instead
        Assert.NotNull(writer.Write("""{"kept":"still","n":3}"""u8));

        var restored = LeafPaths.FromJson(paths.ToJson())!;
        Assert.Equal(paths.Count, restored.Count);
        Assert.Null(restored.MapColumns(["o"]));
        var extractor = new ColumnExtractor(["n", "o.x", "kept"], '|');
        extractor.ExtractLeaves(record, restored.MapColumns(["n", "o.x", "kept"])!);
        Assert.Equal(["1|2", "true", "yes"], Enumerable.Range(0, 3).Select(c => Encoding.UTF8.GetString(extractor[c])));

        Assert.Equal(0, LeafPaths.FromJson(null)!.Count);
        Assert.Null(LeafPaths.FromJson("{"));
        Assert.Null(LeafPaths.FromJson("""{"Paths":["a","a"],"Objects":[]}"""));
        Assert.Null(LeafPaths.FromJson("""{"Paths":["a"],"Objects":[1]}"""));
        Assert.Null(LeafPaths.FromJson("""{"Paths":["a"]}"""));
    }

    /// <summary>The export side: a csv export reads leaf records where the index has them and the JSON where it does not
    /// (a segment imported before leaf records existed, a document past the path cap), and the file is the one the
    /// JSON alone gives, byte for byte.</summary>
    [Fact]
    public async Task A_csv_export_mixes_leaf_records_and_json_and_writes_the_same_file_as_the_json_alone()
    {
        var folder = _home.Service.Indexes.FolderOf("mixed");
        Directory.CreateDirectory(folder);
        // An "old" segment: documents with _source only, as an index made before leaf records has them.
        using (var directory = EmbeddedIndexStore.OpenDirectory(folder))
        using (var raw = new IndexWriter(directory, new IndexWriterConfig(LuceneVersion.LUCENE_48, new KeywordAnalyzer()) { OpenMode = OpenMode.CREATE }))
        {
            foreach (var text in new[] { """{"host":{"name":"old-1"},"n":1,"tags":["x","y"]}""", """{"host":{"name":"old-2"},"n":2}""" })
                raw.AddDocument(new Document { new BinaryDocValuesField(EmbeddedFields.Source, new BytesRef(Encoding.UTF8.GetBytes(text))) });
            raw.Commit();
        }
        // New documents past the path cap: those with a key never seen before get no leaf record.
        var mapping = new Dictionary<string, string> { ["host.name"] = "keyword", ["n"] = "long", ["tags"] = "keyword" };
        var fresh = Enumerable.Range(0, LeafPaths.MaxPaths + 50).Select(i =>
            JsonDocument.Parse($$"""{"host":{"name":"new-{{i}}"},"n":{{i}},"tags":["t{{i % 3}}"],"k{{i}}":"unique"}""").RootElement.Clone());
        _home.Service.Import("mixed", fresh, new ImportOptions { Mapping = mapping, MappedFieldsOnly = true }, null, CancellationToken.None);

        var columns = new List<string> { "host.name", "n", "tags" };
        var source = _home.Service.SourceOf(SourceNames.Embedded);
        var query = new SourceQuery("mixed", "*", [], "@timestamp", null, null) { Columns = columns };
        int leaves = 0, json = 0;
        await using (var session = await source.OpenAsync(query, CancellationToken.None))
        {
            Assert.NotNull(session.LeafColumns);
            using var queue = new RecordBatchQueue(64, CancellationToken.None);
            await session.ReadAsync(queue, CancellationToken.None);
            queue.CompleteAdding();
            foreach (var batch in queue.Consume())
                for (var i = 0; i < batch.Count; i++)
                    if (LeafRecord.Is(batch[i])) leaves++; else json++;
        }
        Assert.Equal(LeafPaths.MaxPaths - 4, leaves); // host (an object), host.name, n and tags take four numbers
        Assert.Equal(2 + 54, json);

        Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "lines", Index = "mixed", Query = "*", Format = "jsonl" }).Status);
        Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "table", Index = "mixed", Query = "*", Format = "csv", Fields = columns }).Status);
        var actual = File.ReadAllText(Path.Combine(_home.Home.ExportsFolder, "table", "table.csv"));
        Assert.Equal(Encoding.UTF8.GetString(_home.CsvFromJsonLines("table", columns, "lines")), actual);
        Assert.Contains("\nold-1,1,x|y\n", actual);
        Assert.Contains("\nnew-4140,4140,t0\n", actual);
    }

    /// <summary>A path list that cannot be read must not be replaced by a new one: the records already in the index hold
    /// its numbers. New documents get no leaf records, the damaged list stays, and exports read the JSON.</summary>
    [Fact]
    public async Task A_damaged_path_list_is_kept_and_the_index_exports_from_its_json()
    {
        _home.Load("damaged", """{"a":"one","n":1}""", """{"a":"two","n":2}""");
        var folder = _home.Service.Indexes.FolderOf("damaged");
        using (var directory = EmbeddedIndexStore.OpenDirectory(folder))
        using (var raw = new IndexWriter(directory, new IndexWriterConfig(LuceneVersion.LUCENE_48, new KeywordAnalyzer())))
        {
            raw.SetCommitData(new Dictionary<string, string> { [EmbeddedFields.LeafPathsKey] = "{damaged" });
            raw.Commit();
        }
        _home.Load("damaged", """{"b":"three","a":"x","n":3}""");
        using (var directory = EmbeddedIndexStore.OpenDirectory(folder))
        using (var reader = DirectoryReader.Open(directory))
        {
            Assert.Equal("{damaged", reader.IndexCommit.UserData[EmbeddedFields.LeafPathsKey]);
            Assert.Equal(3, reader.NumDocs);
        }
        await using (var session = await _home.Service.SourceOf(SourceNames.Embedded)
                         .OpenAsync(new SourceQuery("damaged", "*", [], "@timestamp", null, null) { Columns = ["a", "n"] }, CancellationToken.None))
            Assert.Null(session.LeafColumns);
        Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "read", Index = "damaged", Query = "*", Format = "csv", Fields = ["a", "n"] }).Status);
        Assert.Equal(["a,n", "one,1", "two,2", "x,3"], Rows("read"));
    }

    [Fact]
    public void A_document_far_larger_than_a_lucene_term_round_trips_through_its_leaf_record()
    {
        var big = new string('x', 300_000);
        _home.Load("big", $$"""{"message":"{{big}}","n":1}""", """{"message":"small","n":2}""");
        Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "wide", Index = "big", Query = "*", Format = "csv", Fields = ["n", "message"] }).Status);
        Assert.Equal(["n,message", $"1,{big}", "2,small"], Rows("wide"));
    }

    [Fact]
    public async Task An_export_of_a_column_that_names_an_object_reads_the_json()
    {
        _home.Load("nested", """{"host":{"name":"a","ip":"10.0.0.1"},"n":1}""", """{"host":{"name":"b"},"n":2}""");
        var source = _home.Service.SourceOf(SourceNames.Embedded);
        await using (var session = await source.OpenAsync(new SourceQuery("nested", "*", [], "@timestamp", null, null) { Columns = ["host.name"] }, CancellationToken.None))
            Assert.NotNull(session.LeafColumns);
        await using (var session = await source.OpenAsync(new SourceQuery("nested", "*", [], "@timestamp", null, null) { Columns = ["host", "n"] }, CancellationToken.None))
            Assert.Null(session.LeafColumns);
        Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "objects", Index = "nested", Query = "*", Format = "csv", Fields = ["host", "n"] }).Status);
        Assert.Equal(["host,n", "\"{\"\"name\"\":\"\"a\"\",\"\"ip\"\":\"\"10.0.0.1\"\"}\",1", "\"{\"\"name\"\":\"\"b\"\"}\",2"], Rows("objects"));
    }

    /// <summary>The header, then the rows sorted: an import indexes on several threads, so documents imported together
    /// may sit in the index in either order.</summary>
    string[] Rows(string export)
    {
        var lines = File.ReadAllText(Path.Combine(_home.Home.ExportsFolder, export, export + ".csv")).Split('\n')[..^1];
        return [lines[0], .. lines[1..].Order(StringComparer.Ordinal)];
    }
}
