using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Scheduling;

namespace ExportsPS.Engine.Tests;

public sealed class SchedulingTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    static readonly DateTimeOffset Noon = new(2026, 6, 19, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 25 * * *", "hour field '25'")]
    [InlineData("61 * * * *", "minute field '61'")]
    [InlineData("0 0 32 * *", "day-of-month field '32'")]
    [InlineData("0 0 * 13 *", "month field '13'")]
    [InlineData("0 0 * * MON-XYZ", "day-of-week field 'MON-XYZ'")]
    [InlineData("* * * *", "needs 5")]
    [InlineData("0 0 * * * *", "needs 5")]
    [InlineData("@reboot", "needs 5")]
    public void A_bad_crontab_is_refused_naming_the_field(string cron, string message)
    {
        var error = Assert.Throws<ExportException>(() => ExportSchedule.ValidateCron(cron));
        Assert.Equal(ExportErrorCode.InvalidSchedule, error.Code);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(ScheduleKind.Cron, "0 2 * * *", true, "Daily · 02:00", "2026-06-20T02:00:00.0000000+00:00")]
    [InlineData(ScheduleKind.Cron, "15 * * * *", true, "Hourly · :15", "2026-06-19T12:15:00.0000000+00:00")]
    [InlineData(ScheduleKind.Cron, "0 3 * * 1", true, "Weekly · Monday 03:00", "2026-06-22T03:00:00.0000000+00:00")]
    [InlineData(ScheduleKind.Cron, "30 4 1 * *", true, "Monthly · day 1 04:30", "2026-07-01T04:30:00.0000000+00:00")]
    [InlineData(ScheduleKind.Cron, "*/20 8-18 * * 1-5", true, "Cron · */20 8-18 * * 1-5", "2026-06-19T12:20:00.0000000+00:00")]
    // Both day fields restricted: crontab's OR (the 1st, or any Monday), not Cronos's AND (a Monday the 1st: 2027-02-01).
    [InlineData(ScheduleKind.Cron, "0 0 1 * 1", true, "Cron · 0 0 1 * 1", "2026-06-22T00:00:00.0000000+00:00")]
    [InlineData(ScheduleKind.Cron, "0 0 20 * 1", true, "Cron · 0 0 20 * 1", "2026-06-20T00:00:00.0000000+00:00")]
    [InlineData(ScheduleKind.Cron, "0 0 */2 * 1", true, "Cron · 0 0 */2 * 1", "2026-06-29T00:00:00.0000000+00:00")] // '*…' is unrestricted: AND, as crontab
    [InlineData(ScheduleKind.Cron, "@daily", true, "@daily", "2026-06-20T00:00:00.0000000+00:00")]
    [InlineData(ScheduleKind.Cron, "@monthly", true, "@monthly", "2026-07-01T00:00:00.0000000+00:00")]
    [InlineData(ScheduleKind.Interval, "01:00:00", true, "Every 1h", "2026-06-19T13:00:00.0000000+00:00")]
    [InlineData(ScheduleKind.Interval, "00:15:00", false, "Paused · Every 15m", "2026-06-19T12:15:00.0000000+00:00")]
    public void Schedules_compute_the_next_run_in_utc_and_describe_themselves(ScheduleKind kind, string expression, bool enabled, string summary, string next)
    {
        var schedule = new ExportSchedule { ExportName = "x", Kind = kind, Expression = expression, Enabled = enabled };
        Assert.Equal(summary, schedule.Summary);
        Assert.Equal(next, schedule.NextAfter(Noon).ToString("O"));
    }

    [Fact]
    public async Task A_due_export_runs_once_and_a_missed_window_fires_once_then_continues_from_the_present()
    {
        _home.LoadSample(SampleKind.Events, 20);
        _home.Service.Create(new ExportDefinition { Name = "nightly", Query = "*" });
        var schedule = _home.Service.Schedules.Set("nightly", ScheduleKind.Cron, "0 2 * * *", Noon);
        var due = schedule.NextDue!.Value;                       // 2026-06-20 02:00

        Assert.Empty(_home.Service.Schedules.StartDue(due.AddSeconds(-1)));
        var first = Assert.Single(_home.Service.Schedules.StartDue(due));
        var run = await first.Run!.Completion;
        Assert.Equal((RunStatus.Completed, RunTrigger.Schedule), (run.Status, run.Trigger));
        Assert.Empty(_home.Service.Schedules.StartDue(due));     // claimed: never twice

        // The machine was off for three days: one run, not three, and the next is tomorrow 02:00.
        var late = due.AddDays(3).AddHours(8);
        var caughtUp = Assert.Single(_home.Service.Schedules.StartDue(late));
        await caughtUp.Run!.Completion;
        Assert.Equal(due.AddDays(4), _home.Service.Schedules.Get("nightly")!.NextDue);
    }

    [Fact]
    public async Task A_tick_claimed_after_a_long_run_counts_its_next_tick_from_the_claim_not_from_the_pass_start()
    {
        _home.LoadSample(SampleKind.Events, 5);
        var asOf = DateTimeOffset.UtcNow;
        foreach (var name in new[] { "first", "second" })
        {
            _home.Service.Create(new ExportDefinition { Name = name, Query = "*" });
            // A 2 s interval (below the cmdlets' 1 minute floor) stands in for an hourly schedule behind a 2 h run.
            _home.Catalog.SaveSchedule(new ExportSchedule { ExportName = name, Kind = ScheduleKind.Interval, Expression = "00:00:02", NextDue = asOf });
        }
        using var pass = _home.Service.Schedules.StartDue(asOf).GetEnumerator();
        Assert.True(pass.MoveNext());
        await pass.Current.Run!.Completion;
        Thread.Sleep(2500); // the scheduler waits for the run before asking for the next
        Assert.True(pass.MoveNext());
        await pass.Current.Run!.Completion;
        // From the pass's start the next tick would be at most asOf + 2 s: already past, so it would run again at once.
        Assert.True(_home.Service.Schedules.Get(pass.Current.Schedule.ExportName)!.NextDue > asOf.AddSeconds(2.5));
        Assert.False(pass.MoveNext());
    }

    [Fact]
    public async Task A_pass_limited_to_some_exports_leaves_the_others_due_and_unclaimed()
    {
        _home.LoadSample(SampleKind.Events, 5);
        foreach (var name in new[] { "yes", "no" })
        {
            _home.Service.Create(new ExportDefinition { Name = name, Query = "*" });
            _home.Service.Schedules.Set(name, ScheduleKind.Cron, "0 2 * * *", Noon);
        }
        var due = Noon.AddHours(14);
        var started = Assert.Single(_home.Service.Schedules.StartDue(due, name => name == "yes"));
        await started.Run!.Completion;
        Assert.Equal("yes", started.Schedule.ExportName);
        Assert.Equal(["no"], _home.Service.Schedules.Due(due).Select(s => s.ExportName));
    }

    [Fact]
    public void Scheduling_lifts_a_default_download_window_but_keeps_a_chosen_one()
    {
        _home.LoadSample(SampleKind.Events, 5);
        _home.Service.Create(new ExportDefinition { Name = "defaulted", Query = "*", DownloadWindow = TimeSpan.FromHours(24), DownloadWindowIsDefault = true });
        _home.Service.Create(new ExportDefinition { Name = "chosen", Query = "*", DownloadWindow = TimeSpan.FromHours(2) });
        _home.Service.Schedules.Set("defaulted", ScheduleKind.Cron, "0 2 * * 1", Noon);
        _home.Service.Schedules.Set("chosen", ScheduleKind.Cron, "0 2 * * 1", Noon);
        Assert.Null(_home.Service.Get("defaulted").DownloadWindow);   // a weekly file must not vanish after a day
        Assert.Equal(TimeSpan.FromHours(2), _home.Service.Get("chosen").DownloadWindow);
    }

    [Fact]
    public void Pausing_keeps_the_schedule_and_resuming_continues_from_the_present()
    {
        _home.LoadSample(SampleKind.Events, 5);
        _home.Service.Create(new ExportDefinition { Name = "paused", Query = "*" });
        _home.Service.Schedules.Set("paused", ScheduleKind.Interval, "01:00:00", Noon);
        _home.Service.Schedules.SetEnabled("paused", false, Noon);
        Assert.Empty(_home.Service.Schedules.StartDue(Noon.AddDays(1)));
        Assert.Equal("Paused · Every 1h", _home.Service.Schedules.Get("paused")!.Summary);
        var resumed = _home.Service.Schedules.SetEnabled("paused", true, Noon.AddDays(2));
        Assert.Equal(Noon.AddDays(2).AddHours(1), resumed.NextDue);
        _home.Service.Schedules.Clear("paused", Noon);
        Assert.Null(_home.Service.Schedules.Get("paused"));
        Assert.NotNull(_home.Service.Get("paused"));             // the export stays
        var events = _home.Catalog.ListAudit("paused", 10).Select(e => e.Event).Reverse().ToArray();
        Assert.Equal([AuditEvents.ExportCreated, AuditEvents.ScheduleSet, AuditEvents.SchedulePaused, AuditEvents.ScheduleResumed, AuditEvents.ScheduleCleared], events);
    }

    [Fact]
    public async Task A_scheduled_run_whose_host_died_is_failed_and_retried_at_the_next_scheduler_call()
    {
        _home.LoadSample(SampleKind.Events, 5);
        _home.Service.Create(new ExportDefinition { Name = "retried", Query = "*" });
        var schedule = _home.Service.Schedules.Set("retried", ScheduleKind.Cron, "0 2 * * *", DateTimeOffset.UtcNow);
        var run = _home.Catalog.CreateRun("retried", "default", RunTrigger.Schedule, "dead-host", "scheduler");
        _home.Catalog.TryStartRun(run.Id, "dead-host", 1, DateTimeOffset.UtcNow.AddMinutes(-10));   // then the host died
        _home.Service.Recover();
        Assert.Equal(RunStatus.Failed, _home.Catalog.FindRun(run.Id)!.Status);
        var retry = Assert.Single(_home.Service.Schedules.StartDue(DateTimeOffset.UtcNow));
        Assert.Equal(RunStatus.Completed, (await retry.Run!.Completion).Status);
        Assert.Equal(schedule.NextDue, _home.Service.Schedules.Get("retried")!.NextDue);              // back on its normal rhythm
    }

    /// <summary>A scheduler stopped mid-run (Ctrl+C, a service stopping for a reboot) cancels its run: the cancel is
    /// audited and the tick is retried at the next scheduler call. Stop-Export's cancel is final and audited once.</summary>
    [Fact]
    public async Task A_scheduled_run_stopped_with_its_scheduler_is_audited_and_retried_but_one_stopped_by_Stop_Export_is_not()
    {
        _home.LoadSample(SampleKind.Events, 100_000);
        _home.Service.Create(new ExportDefinition { Name = "interrupted", Query = "*" });
        var regular = _home.Service.Schedules.Set("interrupted", ScheduleKind.Cron, "0 2 * * *", DateTimeOffset.UtcNow).NextDue;
        async Task<RunRecord> StartAndStop(Action<RunHandle> stop)
        {
            var claimed = _home.Catalog.TryClaimTick(_home.Service.Schedules.Get("interrupted")!, regular!.Value);
            Assert.True(claimed);
            var handle = _home.Service.Start("interrupted", RunTrigger.Schedule);
            stop(handle);
            var run = await handle.Completion;
            Assert.Equal(RunStatus.Canceled, run.Status);
            return run;
        }
        string[] CancelEvents(RunRecord run) =>
            _home.Catalog.ListAudit("interrupted", 50).Where(e => e.Event == AuditEvents.ExportCanceled && e.RunId == run.Id).Select(e => e.Detail ?? "").ToArray();

        var stopped = await StartAndStop(handle => handle.Cancel());
        Assert.Contains("runs it again", Assert.Single(CancelEvents(stopped)));
        Assert.True(_home.Service.Schedules.Get("interrupted")!.NextDue <= DateTimeOffset.UtcNow, "the stopped tick is not retried");

        var canceled = await StartAndStop(handle => _home.Service.Cancel("interrupted"));
        Assert.Single(CancelEvents(canceled));
        Assert.Equal(regular, _home.Service.Schedules.Get("interrupted")!.NextDue);
    }

    /// <summary>The retry dies too (an export that kills its host): it is not retried again, every lease, for ever;
    /// the export waits for its next regular tick.</summary>
    [Fact]
    public void A_scheduled_run_is_retried_once_not_again_when_its_retry_died_too()
    {
        _home.LoadSample(SampleKind.Events, 5);
        _home.Service.Create(new ExportDefinition { Name = "crashing", Query = "*" });
        var regular = _home.Service.Schedules.Set("crashing", ScheduleKind.Cron, "0 2 * * *", DateTimeOffset.UtcNow).NextDue;
        RunRecord Dies()
        {
            var run = _home.Catalog.CreateRun("crashing", "default", RunTrigger.Schedule, "dead-host", "scheduler");
            _home.Catalog.TryStartRun(run.Id, "dead-host", 1, DateTimeOffset.UtcNow.AddMinutes(-10));
            Assert.Equal(1, _home.Service.Recover());
            return run;
        }
        Dies();
        var rearmed = _home.Service.Schedules.Get("crashing")!;
        Assert.True(rearmed.NextDue <= DateTimeOffset.UtcNow, "the first death is retried at once");
        Assert.True(_home.Catalog.TryClaimTick(rearmed, regular!.Value));   // a scheduler claims the retry, whose run dies too
        Thread.Sleep(5);
        Dies();
        Assert.Equal(regular, _home.Service.Schedules.Get("crashing")!.NextDue);
        Assert.Empty(_home.Service.Schedules.StartDue(DateTimeOffset.UtcNow));
    }

    /// <summary>A configuration script that sets the schedule an export already has, or resumes one that is not
    /// paused, just as a tick falls due: the tick still runs.</summary>
    [Fact]
    public async Task Setting_the_same_schedule_again_or_resuming_an_active_one_keeps_a_due_tick()
    {
        _home.LoadSample(SampleKind.Events, 5);
        _home.Service.Create(new ExportDefinition { Name = "hourly", Query = "*" });
        var due = _home.Service.Schedules.Set("hourly", ScheduleKind.Interval, "01:00:00", Noon).NextDue!.Value;   // 13:00
        var late = due.AddSeconds(10);
        Assert.Equal(due, _home.Service.Schedules.Set("hourly", ScheduleKind.Interval, "01:00:00", late).NextDue);
        Assert.Equal(due, _home.Service.Schedules.SetEnabled("hourly", true, late).NextDue);
        var start = Assert.Single(_home.Service.Schedules.StartDue(late));
        Assert.Equal(RunStatus.Completed, (await start.Run!.Completion).Status);
        // A real change still counts from the present.
        Assert.Equal(Noon.AddHours(2), _home.Service.Schedules.Set("hourly", ScheduleKind.Interval, "00:30:00", late.AddMinutes(50)).NextDue);
    }

    [Theory]
    [InlineData(ScheduleKind.Interval, "00:00:00", "too short")]
    [InlineData(ScheduleKind.Interval, "4000000.00:00:00", "longer than a year")]
    [InlineData(ScheduleKind.Interval, "hourly", "not a time span")]
    [InlineData(ScheduleKind.Cron, "0 2 * *", "needs 5")]
    public void A_schedule_the_engine_cannot_compute_is_refused_whoever_sets_it(ScheduleKind kind, string expression, string message)
    {
        _home.LoadSample(SampleKind.Events, 5);
        _home.Service.Create(new ExportDefinition { Name = "odd", Query = "*" });
        var error = Assert.Throws<ExportException>(() => _home.Service.Schedules.Set("odd", kind, expression, Noon));
        Assert.Equal((ExportErrorCode.InvalidSchedule, true), (error.Code, error.Message.Contains(message)));
        Assert.Null(_home.Service.Schedules.Get("odd"));
    }

    [Fact]
    public void A_time_limit_longer_than_a_timer_takes_is_refused_before_anything_is_created()
    {
        _home.LoadSample(SampleKind.Events, 5);
        var error = Assert.Throws<ExportException>(() => _home.Service.Create(new ExportDefinition { Name = "forever", Query = "*", TimeLimit = TimeSpan.FromDays(60) }));
        Assert.Equal(ExportErrorCode.InvalidOption, error.Code);
        Assert.Contains("at most 30 days", error.Message);
        Assert.Null(_home.Catalog.FindExport("forever"));
    }

    [Fact]
    public void Editing_a_paused_schedule_changes_when_it_runs_and_keeps_it_paused()
    {
        _home.LoadSample(SampleKind.Events, 5);
        _home.Service.Create(new ExportDefinition { Name = "maintenance", Query = "*" });
        _home.Service.Schedules.Set("maintenance", ScheduleKind.Interval, "01:00:00", Noon);
        _home.Service.Schedules.SetEnabled("maintenance", false, Noon);
        var edited = _home.Service.Schedules.Set("maintenance", ScheduleKind.Cron, "0 3 * * *", Noon);
        Assert.Equal(("Paused · Daily · 03:00", false), (edited.Summary, _home.Service.Schedules.Get("maintenance")!.Enabled));
        Assert.Empty(_home.Service.Schedules.StartDue(Noon.AddDays(2)));
        Assert.Equal(new DateTimeOffset(2026, 6, 23, 3, 0, 0, TimeSpan.Zero), _home.Service.Schedules.SetEnabled("maintenance", true, Noon.AddDays(3)).NextDue);
    }

    /// <summary>The source down when a tick is claimed: the run that could not start is recorded as failed, with the
    /// reason, where Get-ExportStatus and the audit show it, rather than the tick vanishing into a warning.</summary>
    [Fact]
    public void A_claimed_tick_that_cannot_start_is_recorded_as_a_failed_run()
    {
        _home.LoadSample(SampleKind.Events, 5);
        var server = new OpenSearch.LoopbackOpenSearch(_home.Service.Indexes);
        new Sources.OpenSearch.OpenSearchSettings { Name = "cluster", Urls = [server.Url], MaxRetries = 0 }.Save(_home.Catalog);
        _home.Service.Create(new ExportDefinition { Name = "nightly", Query = "*", Source = "cluster" });
        _home.Service.Schedules.Set("nightly", ScheduleKind.Cron, "0 2 * * *", Noon);
        server.Dispose(); // the cluster goes away before 02:00

        var scheduler = new ExportService(_home.Home, _home.Catalog).Schedules; // a scheduler host: nothing cached about the cluster
        var start = Assert.Single(scheduler.StartDue(Noon.AddHours(14)));
        Assert.Null(start.Run);
        var failed = _home.Catalog.LatestRun("nightly")!;
        Assert.Equal((RunStatus.Failed, RunTrigger.Schedule), (failed.Status, failed.Trigger));
        Assert.StartsWith("The run could not start: ", failed.Error);
        Assert.Equal(ExportErrorCode.SourceFailed, failed.ErrorCode);
        Assert.Contains(failed.Id, start.Skipped);
        Assert.Contains(_home.Catalog.ListAudit("nightly", 5), e => e.Event == AuditEvents.ExportRerun && e.RunId == failed.Id);
        Assert.Equal(new DateTimeOffset(2026, 6, 21, 2, 0, 0, TimeSpan.Zero), _home.Service.Schedules.Get("nightly")!.NextDue); // the next night is due as usual
    }
}
