using ExportsPS.Tests.Shared;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Storage;

namespace ExportsPS.Engine.Tests;

public sealed class RunLifecycleTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    string ExportFolder(string name) => Path.Combine(_home.Home.ExportsFolder, name);

    IEnumerable<JsonElement> Records(string name) => _home.Service.ReadRecords(name, CancellationToken.None);

    [Fact]
    public void Csv_without_fields_uses_the_index_default_columns_and_with_fields_exactly_those()
    {
        _home.LoadSample(SampleKind.Events, 300);
        _home.Run(new ExportDefinition { Name = "default-cols", Query = "*", Format = "csv" });
        var first = Records("default-cols").First();
        Assert.Equal(SampleDataGenerator.EventColumns, first.EnumerateObject().Select(p => p.Name).ToArray());

        _home.Run(new ExportDefinition { Name = "picked", Query = "*", Format = "csv", Fields = ["user.name", "@timestamp"] });
        var header = File.ReadLines(Path.Combine(ExportFolder("picked"), "picked.csv")).First();
        Assert.Equal("user.name,@timestamp", header);
    }

    [Fact]
    public void Field_selection_filters_source_documents_in_the_source()
    {
        _home.LoadSample(SampleKind.Events, 200);
        var run = _home.Run(new ExportDefinition { Name = "slim", Query = "*", Format = "jsonl", Fields = ["source.ip", "event.action"] });
        Assert.Equal(RunStatus.Completed, run.Status);
        foreach (var record in Records("slim"))
        {
            Assert.Equal(["event", "source"], record.EnumerateObject().Select(p => p.Name).OrderBy(n => n).ToArray());
            Assert.Equal(["ip"], record.GetProperty("source").EnumerateObject().Select(p => p.Name).ToArray());
        }
    }

    [Fact]
    public void From_and_To_limit_the_time_range_on_the_timestamp_field()
    {
        _home.LoadSample(SampleKind.Events, 1_000);  // spread over the 7 days before SampleEnd
        var run = _home.Run(new ExportDefinition
        {
            Name = "one-day", Query = "*", From = "2026-06-17T00:00:00Z", To = "2026-06-17T00:00:00Z||+1d",
        });
        Assert.InRange(run.Records!.Value, 100, 200);
        foreach (var record in Records("one-day"))
        {
            var at = DateTimeOffset.Parse(record.GetProperty("@timestamp").GetString()!);
            Assert.Equal(new DateTime(2026, 6, 17), at.UtcDateTime.Date);
        }
    }

    [Fact]
    public void A_commit_that_fails_after_its_file_is_in_place_is_finished_by_the_next_recovery()
    {
        _home.LoadSample(SampleKind.Events, 200);
        var first = _home.Run(new ExportDefinition { Name = "torn", Query = "*" });
        Assert.Equal(RunStatus.Completed, first.Status);
        var manifest = Path.Combine(_home.Home.ExportsFolder, "torn", "torn.jsonl.manifest.json");
        File.Delete(manifest);
        Directory.CreateDirectory(manifest); // the manifest's rename fails after the file's has succeeded
        var second = _home.Run(_home.Service.Get("torn"));
        Assert.Equal(RunStatus.Failed, second.Status);
        Assert.Single(Directory.EnumerateFiles(Path.GetDirectoryName(manifest)!, ".tmp-*.manifest.json")); // kept for recovery

        Directory.Delete(manifest);
        _home.Service.Recover();
        Assert.Equal(second.Id, _home.Service.RequireArtifact("torn").RunId);  // the new file is served with its own manifest
    }

    [Fact]
    public void Consecutive_daily_windows_ship_a_document_stamped_at_midnight_once()
    {
        _home.Load("events", "{\"@timestamp\":\"2026-06-17T00:00:00.000Z\",\"id\":\"midnight\"}",
            "{\"@timestamp\":\"2026-06-16T12:00:00.000Z\",\"id\":\"day-before\"}");
        var first = _home.Run(new ExportDefinition { Name = "day-16", Query = "*", From = "2026-06-16", To = "2026-06-17" });
        var second = _home.Run(new ExportDefinition { Name = "day-17", Query = "*", From = "2026-06-17", To = "2026-06-18" });
        Assert.Equal((1L, 1L), (first.Records!.Value, second.Records!.Value));
        Assert.Equal("midnight", Records("day-17").Single().GetProperty("id").GetString());
    }

    [Fact]
    public void A_record_cap_fails_the_run_with_a_clear_message_instead_of_truncating()
    {
        _home.LoadSample(SampleKind.Events, 500);
        var run = _home.Run(new ExportDefinition { Name = "capped", Query = "*", RecordCap = 100 });
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("500 records, more than this export's record cap of 100", run.Error);
        Assert.Equal(ExportErrorCode.RecordCapExceeded, run.ErrorCode);
        Assert.Null(_home.Service.Catalog.FindRun(run.Id)!.Records);
        Assert.False(Directory.Exists(ExportFolder("capped")) && Directory.EnumerateFiles(ExportFolder("capped")).Any());
    }

    [Fact]
    public void A_run_over_its_time_limit_is_marked_failed_and_leaves_no_temp_file()
    {
        _home.LoadSample(SampleKind.Events, 30_000);
        var run = _home.Run(new ExportDefinition { Name = "slow", Query = "*", Format = "csv", TimeLimit = TimeSpan.FromMilliseconds(30) });
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("time limit", run.Error);
        Assert.Equal(ExportErrorCode.TimeLimitExceeded, run.ErrorCode);
        Assert.Empty(Directory.Exists(ExportFolder("slow")) ? Directory.EnumerateFiles(ExportFolder("slow")) : []);
    }

    [Fact]
    public async Task Cancel_stops_a_running_export_promptly_and_keeps_the_previous_artifact()
    {
        _home.LoadSample(SampleKind.Events, 60_000);
        var first = _home.Run(new ExportDefinition { Name = "big", Query = "*", Format = "csv" });
        Assert.Equal(RunStatus.Completed, first.Status);
        var before = _home.Service.RequireArtifact("big");

        var handle = _home.Service.Start("big", RunTrigger.Manual);
        SpinWait.SpinUntil(() => handle.Processed > 0 || handle.Completion.IsCompleted, TimeSpan.FromSeconds(10));
        var asked = DateTime.UtcNow;
        _home.Service.Cancel("big");
        var run = await handle.Completion;
        Assert.True(DateTime.UtcNow - asked < TimeSpan.FromSeconds(2), "cancellation took too long");
        if (run.Status == RunStatus.Completed) return; // finished before the cancel landed: nothing to prove
        Assert.Equal(RunStatus.Canceled, run.Status);
        var after = _home.Service.RequireArtifact("big");
        Assert.Equal(before.Sha256, after.Sha256);
        Assert.Equal(2, Directory.EnumerateFiles(ExportFolder("big")).Count()); // file + manifest, no temp
        Assert.Contains(_home.Catalog.ListAudit("big", 10), e => e.Event == AuditEvents.ExportCanceled);
    }

    [Fact]
    public async Task Cancel_requested_through_the_catalog_stops_a_run_of_another_process()
    {
        _home.LoadSample(SampleKind.Events, 60_000);
        _home.Service.Create(new ExportDefinition { Name = "remote", Query = "*", Format = "csv" });
        var handle = _home.Service.Start("remote", RunTrigger.Manual);
        SpinWait.SpinUntil(() => handle.Processed > 0 || handle.Completion.IsCompleted, TimeSpan.FromSeconds(10));
        _home.Catalog.RequestCancel(handle.RunId, DateTimeOffset.UtcNow); // what another process's Stop-Export does
        var run = await handle.Completion;
        Assert.True(run.Status is RunStatus.Canceled or RunStatus.Completed);
        if (run.Status == RunStatus.Canceled) Assert.Null(run.Records);
    }

    /// <summary>A host paused past its lease (a VM pause, a laptop asleep) comes back to a run another host has
    /// failed (and may be retrying): it must not publish its file or turn the run back into a completed one. The
    /// heartbeat timer is an hour here, so only the check before the commit can notice.</summary>
    [Fact]
    public async Task A_run_failed_elsewhere_while_its_host_was_paused_publishes_nothing_and_stays_failed()
    {
        using var home = new TestHome(new EngineSettings { HeartbeatInterval = TimeSpan.FromHours(1) });
        home.LoadSample(SampleKind.Events, 1_000);
        using var server = new OpenSearch.LoopbackOpenSearch(home.Service.Indexes) { SearchDelay = TimeSpan.FromMilliseconds(100) };
        new Sources.OpenSearch.OpenSearchSettings { Name = "cluster", Urls = [server.Url], PageSize = 100 }.Save(home.Catalog);
        home.Service.Create(new ExportDefinition { Name = "paused-host", Query = "*", Source = "cluster" });
        var handle = home.Service.Start("paused-host", RunTrigger.Manual);
        Assert.True(SpinWait.SpinUntil(() => handle.Processed > 0, TimeSpan.FromSeconds(20)));
        // What another host's recovery does once this run's heartbeat looks a lease old.
        Assert.Equal(handle.RunId, new SqliteCatalog(home.Home.CatalogPath).FailStaleRuns(DateTimeOffset.UtcNow.AddHours(1), DateTimeOffset.UtcNow, "lease lapsed").Single().Id);

        var run = await handle.Completion;
        Assert.Equal((RunStatus.Failed, "lease lapsed"), (run.Status, run.Error));
        Assert.Null(home.Service.StoreOf("local").ReadManifest("paused-host"));
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(home.Home.ExportsFolder, "paused-host")), f => !f.Contains(".tmp"));
    }

    /// <summary>The same paused host, whose run checkpoints: once another host has failed it and a retry has recorded
    /// where it stands, the run's next checkpoint must not replace that resume point (its heartbeat is an hour away).</summary>
    [Fact]
    public async Task A_run_failed_elsewhere_while_its_host_was_paused_leaves_its_retrys_resume_point_alone()
    {
        using var home = new TestHome(new EngineSettings { HeartbeatInterval = TimeSpan.FromHours(1), CheckpointInterval = TimeSpan.Zero });
        home.LoadSample(SampleKind.Events, 3_000);
        using var server = new OpenSearch.LoopbackOpenSearch(home.Service.Indexes) { SearchDelay = TimeSpan.FromMilliseconds(100) };
        new Sources.OpenSearch.OpenSearchSettings { Name = "cluster", Urls = [server.Url], PageSize = 100, TiebreakerField = "event.id" }.Save(home.Catalog);
        home.Service.Create(new ExportDefinition { Name = "paused-host", Query = "*", Source = "cluster" });
        var handle = home.Service.Start("paused-host", RunTrigger.Manual);
        Assert.True(SpinWait.SpinUntil(() => home.Catalog.FindResumePoint("paused-host") is not null, TimeSpan.FromSeconds(20)));
        var otherHost = new SqliteCatalog(home.Home.CatalogPath);
        Assert.Equal(handle.RunId, otherHost.FailStaleRuns(DateTimeOffset.UtcNow.AddHours(1), DateTimeOffset.UtcNow, "lease lapsed").Single().Id);
        var retry = otherHost.CreateRun("paused-host", "default", RunTrigger.Schedule, "host-b", "scheduler");
        Assert.Equal(RunStatus.Running, otherHost.TryStartRun(retry.Id, "host-b", 1, otherHost.Now()));
        Assert.True(otherHost.SaveResumePoint("paused-host", retry.Id, "{\"retry\":true}"));

        var run = await handle.Completion;
        Assert.Equal((RunStatus.Failed, "lease lapsed"), (run.Status, run.Error));
        Assert.True(handle.Processed < 3_000, "the paused run read every record: its checkpoints did not notice it was settled elsewhere");
        Assert.Equal((retry.Id, "{\"retry\":true}"), home.Catalog.FindResumePoint("paused-host"));
    }

    [Fact]
    public async Task A_rerun_replaces_the_file_atomically_and_the_old_one_stays_readable_until_commit()
    {
        var store = new LocalArtifactStore(_home.Home.ExportsFolder);
        ArtifactManifest Manifest(string run, byte[] bytes) => new()
        {
            ExportName = "atomic", RunId = run, FileName = "atomic.jsonl", Format = "jsonl", Compression = "none",
            Records = 1, Bytes = bytes.Length, Sha256 = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(),
            Query = "*", Index = "events", CreatedAt = DateTimeOffset.UtcNow,
        };
        var v1 = Encoding.UTF8.GetBytes("{\"v\":1}\n");
        var v2 = Encoding.UTF8.GetBytes("{\"v\":2}\n");
        var first = store.BeginWrite("atomic", "atomic.jsonl", new string('1', 32));
        first.Content.Write(v1);
        await first.CommitAsync(Manifest("1", v1), CancellationToken.None);

        var second = store.BeginWrite("atomic", "atomic.jsonl", new string('2', 32));
        second.Content.Write(v2);
        // Mid-write: readers still get the complete previous file, and it verifies.
        var during = store.ReadManifest("atomic")!;
        Assert.Equal("1", during.RunId);
        using (var reader = ArtifactVerifier.Open(store, "atomic", during)) reader.DrainAndVerify();
        await second.CommitAsync(Manifest("2", v2), CancellationToken.None);
        Assert.Equal("2", store.ReadManifest("atomic")!.RunId);
        Assert.Equal(v2, File.ReadAllBytes(Path.Combine(ExportFolder("atomic"), "atomic.jsonl")));
        Assert.Equal(2, Directory.EnumerateFiles(ExportFolder("atomic")).Count());
    }

    [Fact]
    public async Task Receive_verifies_the_sha256_and_refuses_a_tampered_file()
    {
        _home.LoadSample(SampleKind.Events, 100);
        _home.Run(new ExportDefinition { Name = "tamper", Query = "*" });
        var target = Path.Combine(_home.Root, "download.jsonl");
        var received = await _home.Service.ReceiveAsync("tamper", target, false, null, CancellationToken.None);
        Assert.Equal(received.Manifest.Sha256, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(target))).ToLowerInvariant());

        File.AppendAllText(Path.Combine(ExportFolder("tamper"), "tamper.jsonl"), "{\"injected\":true}\n");
        var error = Assert.Throws<ExportException>(() =>
            _home.Service.ReceiveAsync("tamper", Path.Combine(_home.Root, "again.jsonl"), false, null, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(ExportErrorCode.ArtifactCorrupt, error.Code);
        Assert.False(File.Exists(Path.Combine(_home.Root, "again.jsonl")));
        Assert.Empty(Directory.EnumerateFiles(_home.Root, "*.partial"));
    }

    /// <summary>Whoever can write to the storage can write a manifest. Its file name must not become a path
    /// outside the folder Receive-ExportFile writes to, nor may one export serve another's manifest.</summary>
    [Theory]
    [InlineData("fileName", "../../escaped/pwned.txt")]
    [InlineData("fileName", "/tmp/pwned.txt")]
    [InlineData("fileName", "other.jsonl")]
    [InlineData("exportName", "other")]
    public void A_manifest_naming_another_file_or_export_is_refused_as_corrupt(string property, string value)
    {
        _home.LoadSample(SampleKind.Events, 10);
        _home.Run(new ExportDefinition { Name = "planted", Query = "*" });
        var manifestPath = Path.Combine(ExportFolder("planted"), "planted.jsonl.manifest.json");
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest[property] = value;
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        // The planted file the manifest points at, with the bytes its sha256 names, wherever that is inside the test's home.
        var planted = Path.GetFullPath(Path.Combine(ExportFolder("planted"), value));
        if (property == "fileName" && planted.StartsWith(_home.Root, StringComparison.Ordinal))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(planted)!);
            File.Copy(Path.Combine(ExportFolder("planted"), "planted.jsonl"), planted);
        }
        var into = Directory.CreateDirectory(Path.Combine(_home.Root, "downloads", "a", "b")).FullName;
        var error = Assert.Throws<ExportException>(() =>
            _home.Service.ReceiveAsync("planted", into, false, null, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(ExportErrorCode.ArtifactCorrupt, error.Code);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.Combine(_home.Root, "downloads"), "*", SearchOption.AllDirectories), p => !into.StartsWith(p));
    }

    /// <summary>A removed export whose file could not be deleted (S3 unreachable, a file held open) leaves its
    /// manifest behind: a new export of the same name has never run, so it neither serves that file nor takes its
    /// -Since LastRun mark from it.</summary>
    [Fact]
    public void A_new_export_does_not_inherit_a_removed_namesakes_leftover_file()
    {
        _home.LoadSample(SampleKind.Events, 50);
        _home.Run(new ExportDefinition { Name = "reborn", Query = "*", SinceLastRun = true });
        _home.Catalog.RemoveExport("reborn"); // Remove-Export whose storage delete then failed
        Assert.True(File.Exists(Path.Combine(ExportFolder("reborn"), "reborn.jsonl.manifest.json")));

        _home.Service.Create(new ExportDefinition { Name = "reborn", Query = "*", SinceLastRun = true });
        var error = Assert.Throws<ExportException>(() => _home.Service.RequireArtifact("reborn"));
        Assert.Equal(ExportErrorCode.RunNotCompleted, error.Code);
        var run = _home.Service.Start("reborn", RunTrigger.Manual).Completion.GetAwaiter().GetResult();
        Assert.Equal(50, run.Records); // from the beginning, not after the leftover's mark
        Assert.Equal(run.Id, _home.Service.RequireArtifact("reborn").RunId);
    }

    [Fact]
    public void Receive_refuses_an_export_without_a_completed_run()
    {
        _home.LoadSample(SampleKind.Events, 10);
        _home.Service.Create(new ExportDefinition { Name = "never", Query = "*" });
        var error = Assert.Throws<ExportException>(() => _home.Service.RequireArtifact("never"));
        Assert.Equal(ExportErrorCode.RunNotCompleted, error.Code);
        Assert.Contains("has never run", error.Message);
    }

    [Fact]
    public void Only_one_run_of_an_export_can_be_active_at_a_time()
    {
        _home.Catalog.AddExport(new ExportDefinition { Name = "solo", Query = "*", CreatedAt = DateTimeOffset.UtcNow });
        var first = _home.Catalog.CreateRun("solo", "default", RunTrigger.Manual, "h", "a");
        var error = Assert.Throws<ExportException>(() => _home.Catalog.CreateRun("SOLO", "default", RunTrigger.Manual, "h", "a"));
        Assert.Equal(ExportErrorCode.RunAlreadyActive, error.Code);
        _home.Catalog.FinishRun(first.Id, new RunOutcome(RunStatus.Completed, 0, 0, 0, 0, null, null, null, []), DateTimeOffset.UtcNow);
        _home.Catalog.CreateRun("solo", "default", RunTrigger.Manual, "h", "a");
    }

    [Fact]
    public void A_run_whose_heartbeat_lapsed_is_marked_failed_not_left_running()
    {
        _home.Catalog.AddExport(new ExportDefinition { Name = "orphan", Query = "*", CreatedAt = DateTimeOffset.UtcNow });
        var run = _home.Catalog.CreateRun("orphan", "default", RunTrigger.Manual, "h", "a");
        _home.Catalog.TryStartRun(run.Id, "dead-host", 1, DateTimeOffset.UtcNow.AddMinutes(-10));
        Assert.Equal(1, _home.Service.Recover());
        var after = _home.Catalog.FindRun(run.Id)!;
        Assert.Equal(RunStatus.Failed, after.Status);
        Assert.Contains("heartbeats", after.Error);
        _home.Catalog.CreateRun("orphan", "default", RunTrigger.Manual, "h", "a"); // the slot is free again
    }

    /// <summary>Puts a finished run back as its process leaves it when killed between publishing the file and
    /// recording the run (or when the catalog's database fails right then): running, last heartbeat ten minutes ago.</summary>
    void Unrecord(RunRecord run)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_home.Home.CatalogPath};Pooling=False");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "UPDATE runs SET status = 'running', ended_at = NULL, records = NULL, bytes = NULL, sha256 = NULL, location = NULL, " +
                              "warnings = '[]', heartbeat_at = @beat, active_key = export_key WHERE id = @id";
        command.Parameters.AddWithValue("@beat", SqlCatalog.Time(DateTimeOffset.UtcNow.AddMinutes(-10)));
        command.Parameters.AddWithValue("@id", run.Id);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    [Fact]
    public async Task A_run_whose_process_died_after_publishing_its_file_is_recorded_completed_and_charged()
    {
        _home.LoadSample(SampleKind.Events, 200);
        var first = _home.Run(new ExportDefinition { Name = "published", Query = "*" });
        void AssertRecordedAs(RunRecord finished, long monthUsage)
        {
            var after = _home.Catalog.FindRun(finished.Id)!;
            Assert.Equal((RunStatus.Completed, finished.Records, finished.Bytes, finished.Sha256, finished.Location),
                (after.Status, after.Records, after.Bytes, after.Sha256, after.Location));
            Assert.Contains("recorded from the file's manifest", Assert.Single(after.Warnings));
            Assert.Equal(monthUsage, _home.Catalog.TenantUsage("default", Engine.Tenants.TenantPolicy.MonthStart(DateTimeOffset.UtcNow)));
        }

        // Killed after the commit: the file and its manifest are the run's.
        Unrecord(first);
        Assert.Equal(0, _home.Service.Recover());
        AssertRecordedAs(first, first.Bytes!.Value);

        // Killed between the commit's two renames: the sweep finishes the commit before the run is settled.
        _home.LoadSample(SampleKind.Events, 100, seed: 7);
        var rerun = await _home.Service.Start("published", RunTrigger.Manual).Completion;
        var manifest = Path.Combine(ExportFolder("published"), "published.jsonl.manifest.json");
        File.WriteAllBytes(Path.Combine(ExportFolder("published"), $".tmp-{rerun.Id}-published.jsonl.manifest.json"), File.ReadAllBytes(manifest));
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace(rerun.Id, first.Id).Replace(rerun.Sha256!, first.Sha256!));
        Unrecord(rerun);
        Assert.Equal(0, _home.Service.Recover());
        AssertRecordedAs(rerun, first.Bytes!.Value + rerun.Bytes!.Value);
        Assert.Empty(Directory.GetFiles(ExportFolder("published"), ".tmp-*"));
    }

    [Fact]
    public void Recover_removes_temp_files_of_runs_that_are_no_longer_active()
    {
        Directory.CreateDirectory(ExportFolder("litter"));
        var stale = Path.Combine(ExportFolder("litter"), $".tmp-{new string('a', 32)}-litter.jsonl");
        File.WriteAllText(stale, "partial");
        _home.Service.Recover();
        Assert.False(File.Exists(stale));
    }

    /// <summary>The kill point no timer can hit: between the commit's two renames (the new file in place, the new
    /// manifest still in its temp file). Reproduced on disk exactly as a SIGKILL there leaves it.</summary>
    [Fact]
    public async Task A_crash_between_the_commits_renames_is_finished_by_recovery_and_one_before_them_is_rolled_back()
    {
        _home.LoadSample(SampleKind.Events, 200);
        _home.Run(new ExportDefinition { Name = "torn", Query = "*" });
        var folder = ExportFolder("torn");
        var file = Path.Combine(folder, "torn.jsonl");
        var manifest = file + ".manifest.json";
        var oldFile = File.ReadAllBytes(file);
        var oldManifest = File.ReadAllBytes(manifest);
        _home.LoadSample(SampleKind.Events, 100, seed: 7); // the re-run's file differs
        var rerun = await _home.Service.Start("torn", RunTrigger.Manual).Completion;
        Assert.Equal(RunStatus.Completed, rerun.Status);
        var newManifest = File.ReadAllBytes(manifest);
        var manifestTemp = Path.Combine(folder, $".tmp-{rerun.Id}-torn.jsonl.manifest.json");

        // Killed after the file's rename, before the manifest's: the file is new, the manifest old.
        File.WriteAllBytes(manifestTemp, newManifest);
        File.WriteAllBytes(manifest, oldManifest);
        var torn = Assert.Throws<ExportException>(() =>
            _home.Service.ReceiveAsync("torn", Path.Combine(_home.Root, "torn-before.jsonl"), true, null, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(ExportErrorCode.ArtifactCorrupt, torn.Code);
        _home.Service.Recover();
        Assert.Equal(newManifest, File.ReadAllBytes(manifest));
        Assert.False(File.Exists(manifestTemp));
        var received = await _home.Service.ReceiveAsync("torn", Path.Combine(_home.Root, "torn-after.jsonl"), true, null, CancellationToken.None);
        Assert.Equal(rerun.Records, received.Manifest.Records);

        // Killed before the file's rename: both temps exist; recovery discards them and the old pair stands.
        var artifactTemp = Path.Combine(folder, $".tmp-{rerun.Id}-torn.jsonl");
        File.WriteAllBytes(file, oldFile);
        File.WriteAllBytes(manifest, oldManifest);
        File.WriteAllBytes(artifactTemp, File.ReadAllBytes(Path.Combine(_home.Root, "torn-after.jsonl")));
        File.WriteAllBytes(manifestTemp, newManifest);
        _home.Service.Recover();
        Assert.Equal(oldManifest, File.ReadAllBytes(manifest));
        Assert.Empty(Directory.GetFiles(folder, ".tmp-*"));
        await _home.Service.ReceiveAsync("torn", Path.Combine(_home.Root, "torn-old.jsonl"), true, null, CancellationToken.None);
        ReliabilityReport.Record("crash", "kill between the commit's two renames (state reproduced on disk): recovery finished the commit (new file served, verified); " +
                                          "kill before them: recovery discarded both temps (old file served, verified)");
    }

    [Fact]
    public async Task Every_state_change_is_in_the_audit_trail_with_the_actor()
    {
        _home.LoadSample(SampleKind.Events, 50);
        _home.Service.Create(new ExportDefinition { Name = "audited", Query = "*" });
        await _home.Service.Start("audited", RunTrigger.Create).Completion;
        await _home.Service.Start("audited", RunTrigger.Manual).Completion;
        await _home.Service.ReceiveAsync("audited", Path.Combine(_home.Root, "a.jsonl"), false, null, CancellationToken.None);
        _home.Service.Remove("audited");
        var events = _home.Catalog.ListAudit("audited", 50).Select(e => e.Event).Reverse().ToArray();
        Assert.Equal([AuditEvents.ExportCreated, AuditEvents.ExportRequested, AuditEvents.ExportRerun, AuditEvents.ExportDownloaded, AuditEvents.ExportDeleted], events);
        Assert.All(_home.Catalog.ListAudit("audited", 50), e => Assert.Contains("@", e.Actor));
    }

    [Theory]
    [InlineData("../escape", ExportErrorCode.InvalidName)]
    [InlineData("a/b", ExportErrorCode.InvalidName)]
    [InlineData("a\\b", ExportErrorCode.InvalidName)]
    [InlineData(".hidden", ExportErrorCode.InvalidName)]
    [InlineData("trailing.", ExportErrorCode.InvalidName)] // Windows would fold it into 'trailing's folder
    [InlineData("bell\u0007", ExportErrorCode.InvalidName)]
    [InlineData("", ExportErrorCode.InvalidName)]
    public void Names_that_could_escape_the_storage_root_are_refused(string name, ExportErrorCode code)
    {
        var error = Assert.Throws<ExportException>(() => _home.Service.Validate(new ExportDefinition { Name = name, Query = "*" }));
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void Duplicate_names_are_refused_case_insensitively()
    {
        _home.LoadSample(SampleKind.Events, 10);
        _home.Service.Create(new ExportDefinition { Name = "Daily", Query = "*" });
        var error = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "daily", Query = "*" }));
        Assert.Equal(ExportErrorCode.DuplicateName, error.Code);
    }

    [Fact]
    public void Catalog_schema_is_versioned_and_reopening_does_not_migrate_twice()
    {
        Assert.Equal(CatalogSchema.Migrations.Count, _home.Catalog.SchemaVersion());
        var again = new SqliteCatalog(_home.Home.CatalogPath);
        again.Initialize();
        Assert.Equal(CatalogSchema.Migrations.Count, again.SchemaVersion());
    }
    /// <summary>A file the store cannot delete (held open on Windows, an immutable file): the export is still removed
    /// and audited, and the failure is an engine error naming it (a non-terminating error for that pipeline item),
    /// not a raw IOException that stopped Remove-Export's pipeline with the catalog and audit half done.</summary>
    [Fact]
    public void An_export_whose_files_cannot_be_deleted_is_still_removed_and_audited_with_a_clear_error()
    {
        _home.LoadSample(SampleKind.Events, 20);
        _home.Service.RegisterStore("stuck", new UndeletableStore(new LocalArtifactStore(Path.Combine(_home.Root, "stuck"))));
        Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "held", Query = "*", Storage = "stuck" }).Status);

        var error = Assert.Throws<ExportException>(() => _home.Service.Remove("held"));
        Assert.Equal(ExportErrorCode.StorageFailed, error.Code);
        Assert.Contains("was removed, but its files could not all be deleted", error.Message);
        Assert.Null(_home.Catalog.FindExport("held"));
        Assert.Contains(_home.Catalog.ListAudit("held", 5), e => e.Event == AuditEvents.ExportDeleted);
    }

    sealed class UndeletableStore(IArtifactStore inner) : IArtifactStore
    {
        public string Kind => inner.Kind;
        public string Locate(string exportName, string fileName) => inner.Locate(exportName, fileName);
        public IArtifactWrite BeginWrite(string exportName, string fileName, string runId, ArtifactKey? key = null) => inner.BeginWrite(exportName, fileName, runId, key);
        public ArtifactManifest? ReadManifest(string exportName) => inner.ReadManifest(exportName);
        public Stream OpenRead(string exportName, ArtifactManifest manifest, ArtifactKey? key = null) => inner.OpenRead(exportName, manifest, key);
        public void Delete(string exportName) => throw new UnauthorizedAccessException($"Access to the path '/data/{exportName}/{exportName}.jsonl' is denied.");
        public bool DeleteExpired(string exportName, ArtifactManifest expired) => inner.DeleteExpired(exportName, expired);
        public int RemoveOrphans(Func<string, bool> isActiveRun) => inner.RemoveOrphans(isActiveRun);
    }
}
