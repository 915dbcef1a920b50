using System.Management.Automation;
using ExportsPS.Engine.Runs;

namespace ExportsPS.Internal;

/// <summary>A run as a PowerShell job (<c>-AsJob</c>): Receive-Job returns the run object; Stop-Job
/// cancels it; progress appears in the job's progress stream.</summary>
internal sealed class ExportRunJob : Job
{
    readonly RunHandle _handle;

    public ExportRunJob(string command, RunHandle handle) : base(command, $"Export:{handle.ExportName}")
    {
        _handle = handle;
        PSJobTypeName = "ExportsPSJob";
        SetJobState(JobState.Running);
        _ = Task.Run(Monitor);
    }

    async Task Monitor()
    {
        var lastPercent = -1;
        while (!_handle.Completion.IsCompleted)
        {
            var total = _handle.Total;
            var percent = total is > 0 ? (int)Math.Min(100, _handle.Processed * 100 / total.Value) : 0;
            if (percent != lastPercent)
            {
                lastPercent = percent;
                Progress.Add(new ProgressRecord(1, $"Exporting '{_handle.ExportName}'", $"{_handle.Processed:N0} records") { PercentComplete = percent });
            }
            await Task.WhenAny(_handle.Completion, Task.Delay(250));
        }
        try
        {
            var run = await _handle.Completion;
            var info = EngineAccess.ToRunInfo(run);
            Output.Add(PSObject.AsPSObject(info));
            if (info.Status != ExportRunStatus.Completed) Error.Add(ErrorRecords.RunFailed(info));
            SetJobState(info.Status switch
            {
                ExportRunStatus.Completed => JobState.Completed,
                ExportRunStatus.Canceled => JobState.Stopped,
                _ => JobState.Failed,
            });
        }
        catch (Exception ex)
        {
            Error.Add(new ErrorRecord(ex, "ExportRunJobFailed", ErrorCategory.NotSpecified, _handle.ExportName));
            SetJobState(JobState.Failed);
        }
    }

    public override void StopJob() => _handle.Cancel();

    public override string StatusMessage =>
        $"{_handle.Phase}: {_handle.Processed:N0} records" + (_handle.BytesStored is { } stored ? $", {stored / 1048576.0:N1} MB uploaded" : "");

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Progress.Count > 0;

    public override string Location => Environment.MachineName;
}
