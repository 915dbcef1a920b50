using System.Diagnostics;
using System.Text.Json;
using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.OpenSearch;
using ExportsPS.Tests.Shared;

namespace ExportsPS.Engine.Tests.OpenSearch;

/// <summary>Start-Export -Resume: a run that fails part-way keeps its file up to the last checkpoint, and the
/// resumed run (a new point in time, each slice filtered to after its last written record) completes it as
/// one file with the same records as an uninterrupted export — no duplicate, no miss — and a valid sha256.</summary>
public sealed class ResumeTests : IDisposable
{
    const int Documents = 3000;
    const string Query = "event.category:authentication OR event.outcome:failure OR event.action:*";
    static readonly string[] Fields = ["@timestamp", "event.id", "event.action", "source.ip", "tags"];
    readonly TestHome _home;
    readonly LoopbackOpenSearch _server;

    public ResumeTests()
    {
        // A checkpoint after every batch, so short runs have many cuts to fail after.
        _home = new TestHome(new EngineSettings { HeartbeatInterval = TimeSpan.FromMilliseconds(200), CheckpointInterval = TimeSpan.Zero });
        _home.LoadSample(SampleKind.Events, Documents);
        _server = new LoopbackOpenSearch(_home.Service.Indexes) { Version = "2.11.1" };
    }

    public void Dispose()
    {
        _server.Dispose();
        _home.Dispose();
    }

    void Register(int pageSize, string? tiebreaker = "event.id") =>
        new OpenSearchSettings
        {
            Name = "cluster", Urls = [_server.Url], PageSize = pageSize, TiebreakerField = tiebreaker,
            MaxRetries = 1, RetryDelay = TimeSpan.FromMilliseconds(10),
        }.Save(_home.Catalog);

    ExportDefinition Definition(string name, string source, string format, bool gzip, int slices) => new()
    {
        Name = name, Query = Query, Source = source, Format = format, Fields = Fields, Slices = slices,
        Compression = gzip ? CompressionKind.Gzip : CompressionKind.None,
    };

    /// <summary>Runs the export with every search after <paramref name="pagesFirst"/> good ones refused for a while:
    /// some slice is refused twice in a row, which with one retry fails the run.</summary>
    RunRecord RunFailingAfter(string name, int pagesFirst, bool resume)
    {
        _server.Faults.Enqueue(new Fault.Status("/_search", 503) { Skip = pagesFirst });
        for (var i = 0; i < 12; i++) _server.Faults.Enqueue(new Fault.Status("/_search", 503));
        var run = _home.Service.Start(name, RunTrigger.Manual, resume: resume).Completion.GetAwaiter().GetResult();
        _server.Faults.Clear();
        Assert.Equal(RunStatus.Failed, run.Status);
        return run;
    }

    List<string> Records(string exportName) =>
        _home.Service.ReadRecords(exportName, CancellationToken.None).Select(r => r.GetRawText()).ToList();

    string ExportFolder(string name) => Path.Combine(_home.Home.ExportsFolder, name);

    RunRecord Resume(string name) => _home.Service.Start(name, RunTrigger.Manual, resume: true).Completion.GetAwaiter().GetResult();

    public static TheoryData<string, bool, int, int> Shapes() => new()
    {
        // format, gzip, slices, page size
        { "jsonl", false, 1, 50 },
        { "jsonl", true, 3, 37 },
        { "csv", false, 2, 100 },
        { "json", true, 4, 64 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task An_interrupted_run_resumed_twice_gives_the_records_of_an_uninterrupted_export(string format, bool gzip, int slices, int pageSize)
    {
        Register(pageSize);
        Assert.Equal(RunStatus.Completed, _home.Run(Definition("baseline", SourceNames.Embedded, format, gzip, 1)).Status);
        var expected = Records("baseline");
        Assert.True(expected.Count > 1000);

        _home.Service.Create(Definition("resumable", "cluster", format, gzip, slices));
        var first = RunFailingAfter("resumable", 6, resume: false);
        Assert.Contains("-Resume", first.Error);
        Assert.Single(Directory.GetFiles(ExportFolder("resumable"), $".tmp-{first.Id}-*"));
        Assert.Equal(0, _server.OpenContexts);

        // The resumed run is interrupted too; the second resume continues the first resume's file.
        var second = RunFailingAfter("resumable", slices + 3, resume: true);
        Assert.Contains("-Resume", second.Error);
        Assert.Empty(Directory.GetFiles(ExportFolder("resumable"), $".tmp-{first.Id}-*"));

        var third = Resume("resumable");
        Assert.True(third.Status == RunStatus.Completed, third.Error);
        Assert.Equal(expected.Count, third.Records);
        var actual = Records("resumable");
        Assert.Equal(actual.Count, actual.Distinct().Count()); // no duplicate
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal)); // no miss

        // The file verifies against its manifest, holds one header / one array, and leaves nothing behind.
        var received = Path.Combine(_home.Root, "received-" + format);
        await _home.Service.ReceiveAsync("resumable", received, overwrite: true, null, CancellationToken.None);
        Assert.Empty(Directory.GetFiles(ExportFolder("resumable"), ".tmp-*"));
        Assert.Null(_home.Catalog.FindResumePoint("resumable"));
        Assert.Contains(_server.RequestsTo("/_search"), r => r.Body.Contains("\"gt\""));
        Assert.Equal(0, _server.OpenContexts);
        Assert.Equal(2, _home.Catalog.ListAudit("resumable", 50).Count(a => a.Event == AuditEvents.ExportResumed));
        if (gzip) Assert.Equal(expected.Count, GzipCliRecordCount(received, format));
        ReliabilityReport.Record("resume", $"{format}{(gzip ? ".gz" : "")}, {slices} slice(s), page {pageSize}: failed twice part-way, resumed twice -> " +
                                           $"{actual.Count:N0} records, 0 duplicates, 0 missing, sha256 verified");
    }

    /// <summary>A resumed gzip file is several gzip members; the standard tool must read them as one file.</summary>
    static int GzipCliRecordCount(string path, string format)
    {
        var info = new ProcessStartInfo("gzip", ["-dc", path]) { RedirectStandardOutput = true };
        using var gzip = Process.Start(info)!;
        var text = gzip.StandardOutput.ReadToEnd();
        gzip.WaitForExit();
        Assert.Equal(0, gzip.ExitCode);
        return format == "json"
            ? JsonDocument.Parse(text).RootElement.GetArrayLength()
            : text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    [Fact]
    public async Task The_partial_file_survives_a_restart_and_the_orphan_sweep()
    {
        Register(pageSize: 80);
        _home.Service.Create(Definition("restart", "cluster", "jsonl", gzip: false, slices: 2));
        var failed = RunFailingAfter("restart", 10, resume: false);

        // A new process: its start-up recovery removes temp files of dead runs, but not a resumable one.
        var again = new ExportService(_home.Home, _home.Catalog, settings: _home.Service.Settings);
        again.Recover();
        Assert.Single(Directory.GetFiles(ExportFolder("restart"), $".tmp-{failed.Id}-*"));
        var resumed = await again.Start("restart", RunTrigger.Manual, resume: true).Completion;
        Assert.True(resumed.Status == RunStatus.Completed, resumed.Error);
        Assert.Equal(_home.Run(Definition("restart-baseline", SourceNames.Embedded, "jsonl", false, 1)).Records, resumed.Records);
        Assert.Equal(resumed.Records, Records("restart").Distinct().Count());
    }

    [Fact]
    public async Task A_fresh_start_discards_the_partial_file_and_a_changed_definition_refuses_the_resume()
    {
        Register(pageSize: 80);
        _home.Service.Create(Definition("changed", "cluster", "jsonl", gzip: false, slices: 1));
        var failed = RunFailingAfter("changed", 5, resume: false);

        _home.Service.Update(_home.Service.Get("changed") with { Query = "event.outcome:failure" });
        var refused = Assert.Throws<ExportException>(() => _home.Service.Start("changed", RunTrigger.Manual, resume: true));
        Assert.Equal(ExportErrorCode.ResumeNotPossible, refused.Code);
        Assert.Contains("was changed", refused.Message);

        var fresh = await _home.Service.Start("changed", RunTrigger.Manual).Completion;
        Assert.True(fresh.Status == RunStatus.Completed, fresh.Error);
        Assert.Empty(Directory.GetFiles(ExportFolder("changed"), ".tmp-*"));
        Assert.Null(_home.Catalog.FindResumePoint("changed"));
        var nothing = Assert.Throws<ExportException>(() => _home.Service.Start("changed", RunTrigger.Manual, resume: true));
        Assert.Equal(ExportErrorCode.ResumeNotPossible, nothing.Code);
        Assert.Contains("no interrupted run", nothing.Message);
    }

    /// <summary>Which slice a document falls in depends on the shards the PIT covers: a resume over a changed
    /// layout would miss or repeat records, so it is refused.</summary>
    [Fact]
    public async Task A_sliced_resume_over_a_changed_shard_layout_is_refused()
    {
        Register(pageSize: 80);
        _home.Service.Create(Definition("reshard", "cluster", "jsonl", gzip: false, slices: 2));
        RunFailingAfter("reshard", 12, resume: false);
        _server.Shards = 3;
        var refused = await _home.Service.Start("reshard", RunTrigger.Manual, resume: true).Completion;
        Assert.Equal(RunStatus.Failed, refused.Status);
        Assert.Contains("shards", refused.Error);
        Assert.Equal(0, _server.OpenContexts);
        _server.Shards = 1;
        var resumed = await _home.Service.Start("reshard", RunTrigger.Manual, resume: true).Completion;
        Assert.True(resumed.Status == RunStatus.Completed, resumed.Error);
        Assert.Equal(resumed.Records, Records("reshard").Distinct().Count());
    }

    /// <summary>A csv without -Field takes the index's columns; the index may gain a field before the resume.
    /// The continued rows must keep the columns the kept header names.</summary>
    [Fact]
    public async Task A_resumed_csv_keeps_its_header_columns_when_the_index_gains_a_field()
    {
        Register(pageSize: 80);
        _home.Service.Create(new ExportDefinition { Name = "columns", Query = "*", Source = "cluster", Format = "csv", Slices = 1 });
        RunFailingAfter("columns", 10, resume: false);
        _home.Load("events", """{"@timestamp":"2026-06-18T00:00:00Z","aaa":{"first":"sorts before every other column"},"event":{"id":"zzz-late"}}""");
        Register(pageSize: 81); // changed settings build a fresh client, which reads the field list anew (as after its cache minute)
        var resumed = await _home.Service.Start("columns", RunTrigger.Manual, resume: true).Completion;
        Assert.True(resumed.Status == RunStatus.Completed, resumed.Error);
        var lines = File.ReadAllLines(Path.Combine(ExportFolder("columns"), "columns.csv"));
        Assert.DoesNotContain("aaa.first", lines[0]);
        using var reader = CsvHelper.CsvReader.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines))),
            new CsvHelper.CsvReaderOptions { HasHeader = false }, false);
        Assert.True(reader.Read());
        var width = reader.FieldCount; // the header's
        var rows = 0;
        while (reader.Read())
        {
            Assert.Equal(width, reader.FieldCount);
            rows++;
        }
        Assert.Equal(resumed.Records, rows);
    }

    /// <summary>A scheduled run resumes by itself; when that resume is refused, the checkpoint goes, so the
    /// next tick starts over instead of failing the same way every night.</summary>
    [Fact]
    public async Task A_refused_scheduled_resume_drops_the_checkpoint_and_the_next_tick_starts_over()
    {
        Register(pageSize: 80);
        _home.Service.Create(Definition("nightly-reshard", "cluster", "jsonl", gzip: false, slices: 2));
        RunFailingAfter("nightly-reshard", 12, resume: false);
        _server.Shards = 2;
        var refused = await _home.Service.Start("nightly-reshard", RunTrigger.Schedule).Completion;
        Assert.Equal(RunStatus.Failed, refused.Status);
        Assert.Contains("next scheduled run starts over", refused.Error);
        Assert.Null(_home.Catalog.FindResumePoint("nightly-reshard"));
        Assert.Empty(Directory.GetFiles(ExportFolder("nightly-reshard"), ".tmp-*"));
        var fresh = await _home.Service.Start("nightly-reshard", RunTrigger.Schedule).Completion;
        Assert.True(fresh.Status == RunStatus.Completed, fresh.Error);
        Assert.Equal(fresh.Records, Records("nightly-reshard").Distinct().Count());
    }

    /// <summary>Without the right to read _settings, a sliced run cannot know its shard layout: it still exports,
    /// but is not resumable (it used to need no such privilege).</summary>
    [Fact]
    public async Task A_sliced_run_that_may_not_read_settings_exports_but_is_not_resumable()
    {
        Register(pageSize: 80);
        _home.Service.Create(Definition("no-settings", "cluster", "jsonl", gzip: false, slices: 2));
        _server.Faults.Enqueue(new Fault.Status("/_settings", 403));
        var failed = RunFailingAfter("no-settings", 12, resume: false);
        Assert.DoesNotContain("-Resume", failed.Error);
        Assert.Contains("no interrupted run", Assert.Throws<ExportException>(() => _home.Service.Start("no-settings", RunTrigger.Manual, resume: true)).Message);
        _server.Faults.Enqueue(new Fault.Status("/_settings", 403));
        var run = await _home.Service.Start("no-settings", RunTrigger.Manual).Completion;
        Assert.True(run.Status == RunStatus.Completed, run.Error);
    }

    [Fact]
    public async Task A_scheduled_run_continues_its_interrupted_predecessor_by_itself()
    {
        Register(pageSize: 80);
        _home.Service.Create(Definition("nightly", "cluster", "jsonl", gzip: true, slices: 2));
        var failed = RunFailingAfter("nightly", 12, resume: false);
        var kept = ResumePoint.FromJson(_home.Catalog.FindResumePoint("nightly")!.Value.StateJson);
        var scheduled = await _home.Service.Start("nightly", RunTrigger.Schedule).Completion;
        Assert.True(scheduled.Status == RunStatus.Completed, scheduled.Error);
        var audit = Assert.Single(_home.Catalog.ListAudit("nightly", 50), a => a.Event == AuditEvents.ExportResumed);
        Assert.Contains(failed.Id, audit.Detail);
        Assert.True(kept.Records > 0);
        var records = Records("nightly");
        Assert.Equal(scheduled.Records, records.Distinct().Count());
        Assert.Equal(_home.Run(Definition("nightly-baseline", SourceNames.Embedded, "jsonl", true, 1)).Records, scheduled.Records);
    }

    [Fact]
    public void Runs_sorted_on_shard_doc_are_not_checkpointed_and_say_how_to_become_resumable()
    {
        _server.Version = "3.3.0";
        Register(pageSize: 80, tiebreaker: null);
        _home.Service.Create(Definition("shard-doc", "cluster", "jsonl", gzip: false, slices: 1));
        var failed = RunFailingAfter("shard-doc", 5, resume: false);
        Assert.DoesNotContain("-Resume", failed.Error);
        Assert.Empty(Directory.GetFiles(ExportFolder("shard-doc"), ".tmp-*"));
        var refused = Assert.Throws<ExportException>(() => _home.Service.Start("shard-doc", RunTrigger.Manual, resume: true));
        Assert.Equal(ExportErrorCode.ResumeNotPossible, refused.Code);
        Assert.Contains("-TiebreakerField", refused.Message);
    }
}
