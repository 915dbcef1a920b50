using System.Management.Automation;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Invoke-ExportScheduler: runs every export that is due, once, and returns the runs — for an OS
/// scheduled task every minute; -Continuous keeps going until stopped (a service). Several schedulers may
/// share one catalog: each due run executes exactly once.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "ExportScheduler", SupportsShouldProcess = true, DefaultParameterSetName = OnceSet)]
[OutputType(typeof(ExportRunInfo))]
public sealed class InvokeExportSchedulerCommand : ExportCmdletBase
{
    const string OnceSet = "Once";
    const string ContinuousSet = "Continuous";

    /// <summary>Evaluates schedules as of this time instead of now (testing, catching up).</summary>
    [Parameter(ParameterSetName = OnceSet)]
    public DateTimeOffset? AsOf { get; set; }

    /// <summary>Runs until stopped (Ctrl+C, or the service manager), checking every -PollInterval.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ContinuousSet)]
    public SwitchParameter Continuous { get; set; }

    [Parameter(ParameterSetName = ContinuousSet)]
    [ValidateTimeSpan("00:00:01", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    protected override void ProcessRecord() => Invoke(() =>
    {
        if (!Continuous)
        {
            RunDue(AsOf);
            return;
        }
        // A service outlives a catalog restart or a network blip: a failed pass is reported and the next one runs.
        do InvokeForItem(() => RunDue(null));
        while (!Stopping.WaitHandle.WaitOne(PollInterval));
    });

    void RunDue(DateTimeOffset? asOfOrNow)
    {
        var service = Service();
        // The catalog's clock, which every scheduler sharing it goes by (PostgreSQL: the server's).
        var now = service.Catalog.Now();
        var asOf = asOfOrNow ?? now;
        // Download windows hold whether or not anything is due: one-off exports (a 24 h window by default) expire too.
        // By the real clock, not -AsOf: evaluating schedules as of tomorrow must not delete files that expire tomorrow.
        service.Schedules.DeleteExpired(now, name => ShouldProcess($"file of export '{name}'", "Delete expired file"));
        var due = service.Schedules.Due(asOf);
        if (due.Count == 0) return;
        // Each run is confirmed on its own (-Confirm); -WhatIf lists what would run and claims nothing.
        var confirmed = due.Where(s => ShouldProcess($"{s.ExportName} (due {s.NextDue:u})", "Run scheduled export"))
            .Select(s => s.ExportName).ToHashSet(StringComparer.Ordinal);
        if (confirmed.Count == 0) return;
        foreach (var start in service.Schedules.StartDue(asOf, confirmed.Contains, Stopping))
        {
            if (start.Run is null)
            {
                WriteWarning($"Scheduled run of '{start.Schedule.ExportName}' (due {start.Due:u}) skipped: {start.Skipped}");
                continue;
            }
            // One at a time: the scheduler's process must outlive its runs, and it keeps the load even.
            RunWaiter.Report(this, RunWaiter.Wait(this, start.Run, 5, Stopping));
        }
    }
}
