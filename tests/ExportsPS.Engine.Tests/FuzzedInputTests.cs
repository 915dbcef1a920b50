using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Scheduling;
using ExportsPS.Engine.Sources.OpenSearch;
using ExportsPS.Engine.Storage.S3;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.Embedded;
using ExportsPS.Engine.Storage;
using FsCheck;
using FsCheck.Fluent;

namespace ExportsPS.Engine.Tests;

/// <summary>Property-based bad input: every generated input either works or is refused with an
/// ExportException carrying the expected code — never any other exception.</summary>
public sealed class FuzzedInputTests : IClassFixture<FuzzedInputTests.Index>
{
    public sealed class Index : IDisposable
    {
        public readonly TestHome Home = new();
        public Index() => Home.Load("docs",
            """{"id":"1","@timestamp":"2025-01-01T00:00:00Z","user":{"name":"alice"},"bytes":5,"ok":true,"tags":["a"]}""",
            """{"id":"2","@timestamp":"2025-02-01T00:00:00Z","user":{"name":"bob"},"bytes":7.5,"message":"hello world"}""");
        public void Dispose() => Home.Dispose();
    }

    const int Cases = 2000;
    readonly Index _index;
    public FuzzedInputTests(Index index) => _index = index;

    static readonly string[] QueryPieces =
    [
        "user.name", "bytes", "@timestamp", "ok", "tags", "message", "nosuch", "_exists_", ":", "\"", "(", ")", "[", "]", "{", "}",
        " TO ", " AND ", " OR ", "NOT ", "*", "?", "~", "^", "/", "\\", "-", "+", ">", ">=", "<", "now-1d/d", "2025-01-01",
        "alice", "5", "1e9", "||", " ", "!", "&&", "\u0000", "é", "'", "\t",
    ];

    static Gen<string> Pieces(string[] pieces, int max) =>
        Gen.Elements(pieces).ArrayOf().Select(parts => string.Concat(parts.Take(max)));

    static Gen<string> AnyOrPieces(string[] pieces, int max) =>
        Gen.OneOf(Pieces(pieces, max), ArbMap.Default.GeneratorFor<string>().Select(s => s ?? ""));

    static void Check<T>(Gen<T> generator, Action<T> property, string category)
    {
        var count = 0;
        Prop.ForAll(generator.ToArbitrary(), (T value) => { count++; property(value); })
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true));
        ReliabilityReport.Record("fuzz", $"{count:N0} {category}: 0 unhandled exceptions");
    }

    static void ExpectOnly(Action action, params ExportErrorCode[] codes)
    {
        try { action(); }
        catch (ExportException ex) when (codes.Contains(ex.Code)) { }
    }

    [Fact]
    public void Fuzzed_queries_parse_or_are_refused_as_invalid() =>
        Check(AnyOrPieces(QueryPieces, 12), query =>
        {
            var source = new EmbeddedSource(_index.Home.Service.Indexes);
            ExpectOnly(() => source.Validate(new SourceQuery("docs", query, [], "@timestamp", null, null)),
                ExportErrorCode.InvalidQuery, ExportErrorCode.InvalidField);
        }, "queries");

    [Fact]
    public void Fuzzed_date_math_resolves_or_is_refused_as_invalid() =>
        Check(AnyOrPieces(["now", "-", "+", "/", "1", "12", "d", "M", "y", "h", "m", "s", "w", "x", "||", "2025-01-31", "T08:00:00Z", " ", "99999999999"], 8),
            expression => ExpectOnly(() => DateMath.Resolve(expression, DateTimeOffset.UtcNow, "From"), ExportErrorCode.InvalidDateMath),
            "date math expressions");

    [Fact]
    public void Fuzzed_export_names_are_valid_and_stay_inside_the_storage_root_or_are_refused()
    {
        var root = Path.Combine(_index.Home.Root, "store");
        var store = new LocalArtifactStore(root);
        Check(AnyOrPieces(["a", "Z", "0", ".", "..", "/", "\\", "-", "_", " ", "\u0000", "\n", "~", "$", "é", ":", "*", new string('x', 120)], 10), name =>
        {
            try
            {
                ExportNames.Validate(name);
                var location = Path.GetFullPath(store.Locate(name, "f.jsonl"));
                Assert.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, location, StringComparison.Ordinal);
            }
            catch (ExportException ex) when (ex.Code == ExportErrorCode.InvalidName) { }
        }, "export names");
    }

    [Fact]
    public void Fuzzed_field_lists_validate_or_are_refused_as_invalid_fields() =>
        Check(Pieces(["user.name", "bytes", "", " ", "*", "source.*", "nosuch", "user", "a.b.c", "?"], 4).ArrayOf().Select(a => a.Take(5).ToArray()), fields =>
            ExpectOnly(() => _index.Home.Service.Validate(new ExportDefinition { Name = "fuzz", Query = "*", Index = "docs", Fields = fields }),
                ExportErrorCode.InvalidField),
            "field lists");

    [Fact]
    public void Fuzzed_cron_expressions_parse_or_are_refused_as_invalid_schedules() =>
        Check(AnyOrPieces(["*", "*/5", "0", "59", "60", "1-5", "5-1", ",", "/", "-", " ", "L", "W", "#", "?", "MON", "JAN", "x", "99999999999", "\t"], 12),
            expression => ExpectOnly(() => ExportSchedule.ValidateCron(expression), ExportErrorCode.InvalidSchedule),
            "cron expressions");

    /// <summary>What a URL parameter turns a string into in PowerShell ([uri] converts relative text too).</summary>
    static readonly string[] UrlPieces =
    [
        "http://", "https://", "ftp://", "s3://", "127.0.0.1", "[::1]", "host", ":9000", ":99999", "/", "//", "?", "#", "@", "user:pw@",
        "%", "%zz", " ", "..", "é", "\u0000", "exports", "-", "a.b",
    ];

    static Uri? AsUri(string text) => Uri.TryCreate(text, UriKind.RelativeOrAbsolute, out var uri) ? uri : null;

    [Fact]
    public void Fuzzed_storage_targets_open_or_are_refused_as_invalid() =>
        Check(from endpoint in AnyOrPieces(UrlPieces, 6)
              from bucket in AnyOrPieces(["a", "b", "0", ".", "..", "-", "_", "A", " ", "/", "exportsps", new string('x', 70)], 6)
              from prefix in AnyOrPieces(["exports", "/", "//", "..", "a", " ", "é"], 4)
              select (endpoint, bucket, prefix),
            t => ExpectOnly(() =>
            {
                using var store = new S3ArtifactStore(new S3StorageTarget { Name = "fuzz", Bucket = t.bucket, Prefix = t.prefix, Endpoint = AsUri(t.endpoint) }, null);
            }, ExportErrorCode.InvalidOption, ExportErrorCode.InvalidName),
            "storage targets (endpoint URL, bucket, prefix)");

    [Fact]
    public void Fuzzed_source_urls_open_or_are_refused_as_invalid() =>
        Check(AnyOrPieces(UrlPieces, 6).ArrayOf().Select(a => a.Take(3).ToArray()), urls =>
            ExpectOnly(() =>
            {
                using var source = new OpenSearchSource(new OpenSearchSettings { Name = "fuzz", Urls = urls.Select(AsUri).OfType<Uri>().ToList() }, null);
            }, ExportErrorCode.InvalidOption),
            "source node URLs");

    [Fact]
    public void Fuzzed_encryption_keys_load_or_are_refused_as_invalid() =>
        Check(Gen.OneOf(AnyOrPieces(["A", "=", "==", "+", "/", "-", "_", " ", "\n", "AAAA", new string('A', 43) + "=", new string('A', 44)], 6),
                ArbMap.Default.GeneratorFor<byte[]>().Select(b => Convert.ToBase64String(b ?? []))),
            text => ExpectOnly(() => ArtifactKey.FromBase64(text), ExportErrorCode.InvalidOption),
            "encryption keys (base64 text)");

    [Fact]
    public void Fuzzed_export_definitions_validate_or_are_refused_with_a_stable_code() =>
        Check(from query in AnyOrPieces(QueryPieces, 6)
              from index in AnyOrPieces(["events", "docs", "Docs", "../x", "", "a/b"], 2)
              from format in AnyOrPieces(["json", "jsonl", "csv", "xml", "", "JSONL"], 1)
              select (query, index, format),
            t => ExpectOnly(() => _index.Home.Service.Validate(new ExportDefinition { Name = "fuzz", Query = t.query, Index = t.index, Format = t.format }),
                ExportErrorCode.InvalidQuery, ExportErrorCode.InvalidField, ExportErrorCode.UnknownIndex, ExportErrorCode.UnknownFormat),
            "export definitions (query, index, format)");
}
