using System.IO.Compression;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Json;
using ExportsPS.Engine.Sample;

namespace ExportsPS.Bench;

/// <summary>bench --records [BenchmarkDotNet options, e.g. --filter *Csv*]: what one record costs each stage of an export, in ns per ECS event (BenchmarkDotNet,
/// in process). The end-to-end figures are seconds per million; these say which stage those seconds go to:
/// jsonl's formatting is a copy, so its gzip export is deflate-bound; a CSV row costs tokenising the document
/// (the floor any streaming extractor pays) plus extraction and quoting, on workers beside the run's thread.
/// Ratios are to gzip Fastest of the same bytes, the stage that bounds the jsonl.gz export.</summary>
[MemoryDiagnoser]
public class RecordBenchmarks
{
    const int Records = 10_000;
    byte[][] _documents = [];
    byte[] _jsonl = [];
    byte[][] _leafRecords = [];
    IRecordFormatter _csv = null!, _leafCsv = null!, _jsonLines = null!;
    readonly LeafPaths _leafPaths = new();
    LeafRecordWriter _leafWriter = null!;
    readonly ColumnExtractor _extractor = new(SampleDataGenerator.EventColumns, CsvFormat.ValueSeparator);
    readonly SourceFilter _filter = new(["@timestamp", "source.ip", "user.name", "event.action"]);

    [GlobalSetup]
    public void Setup()
    {
        _documents = SampleDataGenerator.Generate(SampleKind.Events, Records, 7, DateTimeOffset.UtcNow, TimeSpan.FromDays(30))
            .Select(e => JsonSerializer.SerializeToUtf8Bytes(e)).ToArray();
        _jsonl = _documents.SelectMany(d => d.Append((byte)'\n')).ToArray();
        var export = new ExportDefinition { Name = "bench", Query = "*" };
        _csv = new CsvFormat().CreateRowWriter(Stream.Null, new FormatContext(export, SampleDataGenerator.EventColumns, _ => { }));
        _jsonLines = new JsonLinesFormat().CreateWriter(Stream.Null, new FormatContext(export, [], _ => { }));
        _leafWriter = new LeafRecordWriter(_leafPaths);
        _leafRecords = _documents.Select(d => _leafWriter.Write(d)!.Value.ToArray()).ToArray();
        _leafCsv = new CsvFormat().CreateRowWriter(Stream.Null,
            new FormatContext(export, SampleDataGenerator.EventColumns, _ => { }) { LeafColumns = _leafPaths.MapColumns(SampleDataGenerator.EventColumns) });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _csv.Dispose();
        _leafCsv.Dispose();
        _jsonLines.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "jsonl line (a copy)")]
    public void JsonlLine()
    {
        foreach (var document in _documents) _jsonLines.WriteRecord(document);
        _jsonLines.Flush();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Records, Description = "gzip Fastest of that line")]
    public void GzipFastest()
    {
        using var gzip = new GZipStream(Stream.Null, CompressionLevel.Fastest);
        gzip.Write(_jsonl);
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "tokenise (Utf8JsonReader)")]
    public int Tokenise()
    {
        var tokens = 0;
        foreach (var document in _documents)
        {
            var reader = new Utf8JsonReader(document);
            while (reader.Read()) tokens++;
        }
        return tokens;
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "extract 14 columns (no CSV)")]
    public int Extract()
    {
        var bytes = 0;
        foreach (var document in _documents)
        {
            _extractor.Extract(document);
            bytes += _extractor[0].Length;
        }
        return bytes;
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "csv row, 14 columns")]
    public void CsvRow()
    {
        foreach (var document in _documents) _csv.WriteRecord(document);
        _csv.Flush();
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "csv row from the leaf record")]
    public void LeafCsvRow()
    {
        foreach (var record in _leafRecords) _leafCsv.WriteRecord(record);
        _leafCsv.Flush();
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "leaf record (at import)")]
    public int LeafRecordAtImport()
    {
        var bytes = 0;
        foreach (var document in _documents) bytes += _leafWriter.Write(document)!.Value.Length;
        return bytes;
    }

    [Benchmark(OperationsPerInvoke = Records, Description = "_source includes, 4 fields")]
    public int SourceIncludes()
    {
        var bytes = 0;
        foreach (var document in _documents) bytes += _filter.Apply(document).Length;
        return bytes;
    }

    /// <summary>In process (no generated project to build), 10 iterations after 3 warm-ups: some 15 s a benchmark.</summary>
    public static void Run(string[] args) =>
        BenchmarkSwitcher.FromTypes([typeof(RecordBenchmarks)]).Run(args.Length > 0 ? args : ["--filter", "*"], DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithIterationCount(10).WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "exportsps-bench-records")));
}
