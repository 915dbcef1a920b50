using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Engine.Runs;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Start-Export: runs (or re-runs) exports now, replacing each one's file atomically.</summary>
[Cmdlet(VerbsLifecycle.Start, "Export", SupportsShouldProcess = true, DefaultParameterSetName = WaitSet)]
[OutputType(typeof(ExportRunInfo), ParameterSetName = [WaitSet, NoWaitSet])]
[OutputType(typeof(Job), ParameterSetName = [JobSet])]
public sealed class StartExportCommand : ExportCmdletBase
{
    const string WaitSet = "Wait";
    const string NoWaitSet = "NoWait";
    const string JobSet = "AsJob";

    #region Parameters

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    public string[] Name { get; set; } = [];

    /// <summary>Returns the queued run at once; the run continues in this session's background.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NoWaitSet)]
    public SwitchParameter NoWait { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = JobSet)]
    public SwitchParameter AsJob { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            InvokeForItem(() =>
            {
                var service = EngineAccess.Service();
                var export = service.Get(name);
                if (!ShouldProcess(export.Name, "Run export")) return;
                var handle = service.Start(export.Name, RunTrigger.Manual);
                if (AsJob)
                {
                    var job = new ExportRunJob(MyInvocation.Line, handle);
                    JobRepository.Add(job);
                    WriteObject(job);
                }
                else if (NoWait)
                {
                    WriteObject(EngineAccess.ToRunInfo(service.Catalog.FindRun(handle.RunId) ?? handle.Run, handle));
                }
                else
                {
                    RunWaiter.Report(this, RunWaiter.Wait(this, handle, 1, Stopping));
                }
            });
        }
    }
}
