using System.Globalization;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;

namespace ExportsPS.Engine.Tests;

/// <summary>-Since LastRun: each run ships only documents newer than the previous complete run's high-water mark.</summary>
public sealed class IncrementalExportTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    static string Event(string id, DateTimeOffset at) =>
        "{\"@timestamp\":\"" + at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) + "\",\"event\":{\"id\":\"" + id + "\"}}";

    List<string> Ids() => File.ReadAllLines(Path.Combine(_home.Home.ExportsFolder, "feed", "feed.jsonl"))
        .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("event").GetProperty("id").GetString()!).Order().ToList();

    [Fact]
    public async Task Each_run_exports_only_what_arrived_after_the_previous_runs_high_water_mark()
    {
        var start = DateTimeOffset.UtcNow;
        _home.Load("events", Event("old-1", start.AddDays(-2)), Event("old-2", start.AddHours(-1)));
        var export = new ExportDefinition { Name = "feed", Query = "*", SinceLastRun = true, From = "now-7d" };
        var first = _home.Run(export);
        Assert.True(first.Status == RunStatus.Completed, first.Error);
        Assert.Equal(["old-1", "old-2"], Ids());
        var mark = _home.Service.RequireArtifact("feed").HighWaterMark!.Value;
        Assert.InRange(mark, start, DateTimeOffset.UtcNow);

        Thread.Sleep(20);
        // A new event, and one indexed late with a timestamp before the mark: the latter is not shipped.
        _home.Load("events", Event("new-1", DateTimeOffset.UtcNow), Event("late", mark.AddMinutes(-5)));
        var second = await _home.Service.Start("feed", RunTrigger.Manual).Completion;
        Assert.True(second.Status == RunStatus.Completed, second.Error);
        Assert.Equal(["new-1"], Ids());
        Assert.True(_home.Service.RequireArtifact("feed").HighWaterMark > mark);

        var third = await _home.Service.Start("feed", RunTrigger.Manual).Completion;
        Assert.Equal((RunStatus.Completed, 0L), (third.Status, third.Records ?? -1));
    }

    [Fact]
    public void A_changed_download_window_reaches_the_file_already_written_and_a_half_committed_file_is_never_expired()
    {
        _home.Load("events", Event("one", DateTimeOffset.UtcNow.AddHours(-1)));
        var run = _home.Run(new ExportDefinition { Name = "feed", Query = "*", DownloadWindow = TimeSpan.FromSeconds(1) });
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        _home.Service.Update(_home.Service.Get("feed") with { DownloadWindow = null });   // Set-Export -DownloadWindow 0
        Thread.Sleep(1100);
        Assert.Null(_home.Service.RequireArtifact("feed").ExpiresAt);
        Assert.Equal(0, _home.Service.DeleteExpiredArtifacts(DateTimeOffset.UtcNow));

        _home.Service.Update(_home.Service.Get("feed") with { DownloadWindow = TimeSpan.FromSeconds(1) });
        // A file newer than the manifest: a run's commit halfway (its manifest comes next). Not the expired file.
        var file = Path.Combine(_home.Home.ExportsFolder, "feed", "feed.jsonl");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        Assert.Equal(0, _home.Service.DeleteExpiredArtifacts(DateTimeOffset.UtcNow));
        Assert.True(File.Exists(file));
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-5));
        Assert.Equal(1, _home.Service.DeleteExpiredArtifacts(DateTimeOffset.UtcNow));
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task An_expired_file_is_deleted_once_and_the_next_incremental_run_still_starts_from_its_mark()
    {
        _home.Load("events", Event("old-1", DateTimeOffset.UtcNow.AddHours(-1)));
        var first = _home.Run(new ExportDefinition { Name = "feed", Query = "*", SinceLastRun = true, DownloadWindow = TimeSpan.FromSeconds(1) });
        Assert.True(first.Status == RunStatus.Completed, first.Error);
        var folder = Path.Combine(_home.Home.ExportsFolder, "feed");
        // What a run writing the next file, or a partial file kept for -Resume, has in the folder.
        var partial = Path.Combine(folder, ".tmp-run-of-another-feed.jsonl");
        File.WriteAllText(partial, "{}\n");

        Thread.Sleep(1100);
        var later = DateTimeOffset.UtcNow;
        // While a run of the export is active it may be committing its new file: the expired one waits for a later pass.
        var active = _home.Catalog.CreateRun("feed", "default", RunTrigger.Manual, "another-host", "someone");
        Assert.Equal(0, _home.Service.DeleteExpiredArtifacts(later));
        Assert.True(File.Exists(Path.Combine(folder, "feed.jsonl")));
        _home.Catalog.FinishRun(active.Id, new RunOutcome(RunStatus.Canceled, 0, null, null, null, null, null, "canceled", []), later);
        Assert.Equal(1, _home.Service.DeleteExpiredArtifacts(later));
        Assert.Equal(0, _home.Service.DeleteExpiredArtifacts(later));
        Assert.False(File.Exists(Path.Combine(folder, "feed.jsonl")));
        Assert.True(File.Exists(partial));
        Assert.Single(_home.Catalog.ListAudit("feed", 50), e => e.Event == Catalog.AuditEvents.ArtifactExpired);
        var refused = Assert.Throws<ExportException>(() => _home.Service.RequireArtifact("feed"));
        Assert.Equal(ExportErrorCode.ArtifactExpired, refused.Code);

        // Nothing new arrived: the next run ships nothing again, because the mark outlived the file.
        Thread.Sleep(20);
        var second = await _home.Service.Start("feed", RunTrigger.Manual).Completion;
        Assert.Equal((RunStatus.Completed, 0L), (second.Status, second.Records ?? -1));
    }
}
