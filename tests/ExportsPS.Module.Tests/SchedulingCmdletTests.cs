namespace ExportsPS.Module.Tests;

public sealed class SchedulingCmdletTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    public SchedulingCmdletTests() =>
        _ps.Ok("New-ExportSampleData -Count 100 | Out-Null; New-Export nightly -Query '*' -Format csv -NoRun | Out-Null");

    [Fact]
    public void A_daily_schedule_runs_once_when_due_and_get_export_shows_it()
    {
        var schedule = _ps.Ok("Set-ExportSchedule nightly -Daily -At 02:00").Single();
        Assert.Equal("Daily · 02:00", schedule.Properties["Schedule"].Value);
        var next = (DateTimeOffset)schedule.Properties["NextRun"].Value;
        Assert.Equal((2, 0), (next.Hour, next.Minute));
        var info = _ps.Ok("Get-Export nightly").Single();
        Assert.Equal("Daily · 02:00", info.Properties["Schedule"].Value);

        var variables = new Dictionary<string, object?> { ["due"] = next };
        Assert.Empty(_ps.Run("Invoke-ExportScheduler -AsOf $due.AddMinutes(-1)", variables).Output);
        Assert.Single(_ps.Run("Get-ExportSchedule -Due -AsOf $due", variables).Output);
        Assert.Empty(_ps.Run("Invoke-ExportScheduler -AsOf $due -WhatIf", variables).Output);   // lists, runs nothing
        Assert.Empty(_ps.Ok("Get-ExportStatus nightly -History"));

        var runs = _ps.Run("Invoke-ExportScheduler -AsOf $due", variables).Output;
        var run = Assert.Single(runs);
        Assert.Equal(("Completed", "Schedule"), (run.Properties["Status"].Value.ToString(), run.Properties["Trigger"].Value));
        Assert.Empty(_ps.Run("Invoke-ExportScheduler -AsOf $due", variables).Output);           // never twice
        Assert.Single(_ps.Run("Invoke-ExportScheduler -AsOf $due.AddDays(3)", variables).Output); // missed days: once
    }

    [Fact]
    public void Pause_resume_and_clear_keep_the_export_and_are_audited()
    {
        _ps.Ok("Get-Export nightly | Set-ExportSchedule -Interval 01:00:00 | Out-Null");
        var paused = _ps.Ok("Set-ExportSchedule nightly -Disable").Single();
        Assert.Equal("Paused · Every 1h", paused.Properties["Schedule"].Value);
        Assert.Null(paused.Properties["NextRun"].Value);                                           // no run is coming
        Assert.Null(_ps.Ok("Get-ExportSchedule nightly").Single().Properties["NextRun"].Value);
        var resumed = _ps.Ok("Set-ExportSchedule nightly -Enable").Single();
        Assert.Equal("Every 1h", resumed.Properties["Schedule"].Value);
        Assert.NotNull(resumed.Properties["NextRun"].Value);
        _ps.Ok("Set-ExportSchedule nightly -Clear");
        Assert.Empty(_ps.Ok("Get-ExportSchedule nightly"));
        Assert.Single(_ps.Ok("Get-Export nightly"));
        var events = _ps.Ok("Get-ExportAuditEvent nightly | ForEach-Object Event").Select(e => e.ToString()).ToList();
        Assert.Contains("SCHEDULE_PAUSED", events);
        Assert.Contains("SCHEDULE_RESUMED", events);
        Assert.Contains("SCHEDULE_CLEARED", events);
    }

    [Fact]
    public void A_bad_crontab_is_refused_with_a_stable_id_naming_the_field()
    {
        var result = _ps.Run("Set-ExportSchedule nightly -Cron '0 25 * * *'");
        Assert.Equal("InvalidSchedule,ExportsPS.Commands.SetExportScheduleCommand", result.ErrorId);
        Assert.Contains("hour field '25'", result.Terminating?.Message ?? result.Errors[0].ToString());
        Assert.Empty(_ps.Ok("Get-ExportSchedule"));
        var onCreate = _ps.Run("New-Export other -Query '*' -Schedule '* * *'");
        Assert.Equal("InvalidSchedule,ExportsPS.Commands.NewExportCommand", onCreate.ErrorId);
        Assert.Empty(_ps.Ok("Get-Export other*"));
    }

    [Fact]
    public void New_export_can_schedule_at_creation()
    {
        var info = _ps.Ok("New-Export hourly -Query '*' -Schedule '15 * * * *' -NoRun").Single();
        Assert.Equal("Hourly · :15", info.Properties["Schedule"].Value);
    }

    [Fact]
    public void A_manual_start_during_an_active_run_is_refused_or_queued_with_Queue()
    {
        _ps.Ok("New-ExportSampleData -Count 150000 -Index big -MappedFieldsOnly -Mapping @{ '@timestamp' = 'date' } | Out-Null; New-Export long -Index big -Query '*' -Format csv -NoRun | Out-Null");
        _ps.Ok("Start-Export long -NoWait | Out-Null");
        var refused = _ps.Run("Start-Export long");
        var status = _ps.Ok("(Get-ExportStatus long).Status").Single().ToString();
        if (status != "Completed") Assert.Equal("RunAlreadyActive,ExportsPS.Commands.StartExportCommand", refused.ErrorId);
        var queued = _ps.Ok("Start-Export long -Queue").Single();
        Assert.Equal("Completed", queued.Properties["Status"].Value.ToString());
        var runs = _ps.Ok("Get-ExportStatus long -History | ForEach-Object Status").Select(s => s.ToString()).ToList();
        Assert.True(runs.Count >= 2 && runs.All(s => s == "Completed"), string.Join(",", runs));
    }

    /// <summary>The catalog's database failing under a session (here: its file overwritten) is a CatalogFailed
    /// error, not a .NET crash; a continuous scheduler reports each failed pass and keeps polling until stopped.</summary>
    [Fact]
    public void A_catalog_failing_mid_session_is_CatalogFailed_and_a_continuous_scheduler_keeps_polling()
    {
        _ps.Ok("Set-ExportSchedule nightly -Interval 00:01:00 | Out-Null");
        var garbage = new byte[64 * 1024];
        new Random(3).NextBytes(garbage);
        foreach (var file in Directory.EnumerateFiles(_ps.Home, "catalog.db*")) File.WriteAllBytes(file, garbage);

        var failed = _ps.Run("Get-Export");
        Assert.Equal("CatalogFailed,ExportsPS.Commands.GetExportCommand", failed.ErrorId);

        using var runspace = PowerShellSession.OpenRunspace();
        using var shell = System.Management.Automation.PowerShell.Create(runspace);
        shell.AddScript("Invoke-ExportScheduler -Continuous -PollInterval 00:00:01");
        var running = shell.BeginInvoke();
        Assert.True(SpinWait.SpinUntil(() => shell.Streams.Error.Count >= 2, TimeSpan.FromSeconds(30)), "a failed pass ended the scheduler");
        Assert.False(running.IsCompleted);
        shell.Stop();
        Assert.All(shell.Streams.Error.ToList(), e => Assert.StartsWith("CatalogFailed,", e.FullyQualifiedErrorId));
    }
}
