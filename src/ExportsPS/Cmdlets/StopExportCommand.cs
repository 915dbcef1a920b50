using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Stop-Export: cancels an export's queued or running run, in this or another process.</summary>
[Cmdlet(VerbsLifecycle.Stop, "Export", SupportsShouldProcess = true)]
[OutputType(typeof(ExportRunInfo))]
public sealed class StopExportCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    public string[] Name { get; set; } = [];

    /// <summary>Waits until the run has stopped and returns its final state.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: give up after this long (a warning says so; the run still stops).</summary>
    [Parameter]
    [ValidateTimeSpan("00:00:01", "1.00:00:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(1);

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            InvokeForItem(() =>
            {
                var service = Service();
                var export = service.Get(name);
                if (!ShouldProcess(export.Name, "Stop export run")) return;
                var run = service.Cancel(export.Name);
                if (Wait)
                {
                    var deadline = DateTime.UtcNow + Timeout;
                    while (!run.IsSettled && DateTime.UtcNow < deadline && !Stopping.IsCancellationRequested)
                    {
                        Thread.Sleep(100);
                        run = service.GetRun(run.Id);
                    }
                    if (!run.IsSettled && !Stopping.IsCancellationRequested)
                        WriteWarning(RunWaiter.StillActive(run, Timeout));
                }
                WriteObject(EngineAccess.ToRunInfo(run));
            });
        }
    }
}
