using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Engine.Runs;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportStatus: an export's latest run, its history, or one run by id; -Wait polls until
/// the run has settled (completed, failed or canceled), showing progress.</summary>
// RunId is the default set so that piped runs and audit events bind by their RunId: with Latest as the default,
// PowerShell binds their Name and every run piped in would come back as the export's latest. A name, given or
// piped as a string or an export, still selects Latest (RunId is not positional and not bound by value).
[Cmdlet(VerbsCommon.Get, "ExportStatus", DefaultParameterSetName = RunIdSet)]
[OutputType(typeof(ExportRunInfo))]
public sealed class GetExportStatusCommand : ExportCmdletBase
{
    const string LatestSet = "Latest";
    const string HistorySet = "History";
    const string RunIdSet = "RunId";

    #region Parameters

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LatestSet)]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = HistorySet)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = RunIdSet, ValueFromPipelineByPropertyName = true)]
    public string RunId { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = HistorySet)]
    public SwitchParameter History { get; set; }

    [Parameter(ParameterSetName = HistorySet)]
    [ValidateRange(1, 10000)]
    public int Last { get; set; } = 20;

    [Parameter(ParameterSetName = LatestSet)]
    [Parameter(ParameterSetName = RunIdSet)]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: give up after this long (the run continues).</summary>
    [Parameter(ParameterSetName = LatestSet)]
    [Parameter(ParameterSetName = RunIdSet)]
    [ValidateTimeSpan("00:00:00", "49.00:00:00")] // a timer's longest wait is 49.7 days
    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(24);

    #endregion

    protected override void ProcessRecord()
    {
        if (ParameterSetName == RunIdSet)
        {
            InvokeForItem(() =>
            {
                var service = Service();
                Emit(service, service.GetRun(RunId));
            });
            return;
        }
        foreach (var name in Name)
        {
            InvokeForItem(() =>
            {
                var service = Service();
                if (History)
                {
                    foreach (var run in service.History(name, Last)) WriteObject(EngineAccess.ToRunInfo(run));
                    return;
                }
                var latest = service.LatestRun(name) ?? throw new Engine.Exports.ExportException(
                    Engine.Exports.ExportErrorCode.RunNotFound, $"Export '{name}' has never run. Start it with Start-Export.", name);
                Emit(service, latest);
            });
        }
    }

    void Emit(Engine.Exports.ExportService service, RunRecord run)
    {
        if (Wait && !run.IsSettled)
        {
            if (service.FindRunning(run.Id) is { } handle)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
                timeout.CancelAfter(Timeout);
                // A timeout stops waiting, not the run: wait on a token that is not the run's.
                run = RunWaiter.WaitWithoutCancel(this, handle, 1, timeout.Token) ?? service.GetRun(run.Id);
            }
            else run = PollCatalog(service, run);
            if (!run.IsSettled && !Stopping.IsCancellationRequested) WriteWarning(RunWaiter.StillActive(run, Timeout));
        }
        WriteObject(EngineAccess.ToRunInfo(run, service.FindRunning(run.Id)));
    }

    /// <summary>A run in another process: follow it through the catalog's heartbeat progress.</summary>
    RunRecord PollCatalog(Engine.Exports.ExportService service, RunRecord run)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var progress = new ProgressRecord(2, $"Waiting for export '{run.ExportName}'", "Queued");
        var lastPercent = -1;
        while (true)
        {
            if (run.IsSettled || DateTime.UtcNow >= deadline || Stopping.IsCancellationRequested)
            {
                if (lastPercent >= 0) WriteProgress(new ProgressRecord(2, progress.Activity, run.Status.ToString()) { RecordType = ProgressRecordType.Completed });
                return run;
            }
            Thread.Sleep(250);
            if (!WhatIfInEffect) service.RecoverIfDue();
            run = service.GetRun(run.Id);
            var percent = run.Total is > 0 ? (int)Math.Min(100, run.Processed * 100 / run.Total.Value) : 0;
            if (percent == lastPercent) continue;
            lastPercent = percent;
            progress.PercentComplete = percent;
            progress.StatusDescription = $"{run.Status}: {run.Processed:N0} of {run.Total?.ToString("N0") ?? "?"} records";
            WriteProgress(progress);
        }
    }
}
