using System.Management.Automation;
using ExportsPS.Engine.Runs;

namespace ExportsPS.Internal;

/// <summary>Waits for an in-process run on the pipeline thread, polling its counters, so progress is
/// written from the only thread allowed to write it, and only when the percentage or phase changes.</summary>
internal static class RunWaiter
{
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits for the run; stopping the pipeline cancels the run.</summary>
    public static RunRecord Wait(Cmdlet cmdlet, RunHandle handle, int activityId, CancellationToken stopping)
    {
        using var stopRegistration = stopping.Register(handle.Cancel);
        return WaitWithoutCancel(cmdlet, handle, activityId, stopping)
               ?? handle.Completion.GetAwaiter().GetResult();
    }

    /// <summary>Waits until the run settles or <paramref name="giveUp"/> fires (then returns null and
    /// the run goes on).</summary>
    public static RunRecord? WaitWithoutCancel(Cmdlet cmdlet, RunHandle handle, int activityId, CancellationToken giveUp)
    {
        var stopping = giveUp;
        var activity = $"Exporting '{handle.ExportName}'";
        var lastPercent = -1;
        var lastPhase = "";
        var progress = new ProgressRecord(activityId, activity, "Queued");
        while (!handle.Completion.Wait(Poll))
        {
            if (stopping.IsCancellationRequested) return null;
            var total = handle.Total;
            var percent = total is > 0 ? (int)Math.Min(100, handle.Processed * 100 / total.Value) : 0;
            var uploaded = handle.BytesStored is { } stored ? $", {stored / 1048576.0:N1} MB uploaded" : "";
            var phase = handle.Phase + uploaded;
            if (percent == lastPercent && phase == lastPhase) continue;
            lastPercent = percent;
            lastPhase = phase;
            progress.PercentComplete = percent;
            progress.StatusDescription = total is null
                ? $"{Capitalize(phase)}…"
                : $"{Capitalize(handle.Phase)}: {handle.Processed:N0} of {total:N0} records{uploaded}";
            if (!stopping.IsCancellationRequested) cmdlet.WriteProgress(progress);
        }
        if (lastPercent >= 0 && !stopping.IsCancellationRequested)
        {
            progress.RecordType = ProgressRecordType.Completed;
            progress.PercentComplete = 100;
            cmdlet.WriteProgress(progress);
        }
        return handle.Completion.GetAwaiter().GetResult();
    }

    /// <summary>Why a wait returned a run that has not settled, and how to go on waiting.</summary>
    public static string StillActive(RunRecord run, TimeSpan waited) =>
        $"Stopped waiting after {waited}: run {run.Id} of export '{run.ExportName}' is still {run.Status.ToString().ToLowerInvariant()}. " +
        $"Wait again with Get-ExportStatus -RunId {run.Id} -Wait.";

    static string Capitalize(string phase) => phase.Length == 0 ? phase : char.ToUpperInvariant(phase[0]) + phase[1..];

    /// <summary>Writes the run and, when it did not complete, a non-terminating error explaining why.</summary>
    public static void Report(Cmdlet cmdlet, RunRecord run)
    {
        var info = EngineAccess.ToRunInfo(run);
        cmdlet.WriteObject(info);
        if (info.Status is ExportRunStatus.Failed or ExportRunStatus.Canceled)
            cmdlet.WriteError(ErrorRecords.RunFailed(info));
        foreach (var warning in info.Warnings) cmdlet.WriteWarning(warning);
    }
}
