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

    /// <summary>When the export is already queued or running (say, a scheduled run), waits for it to finish
    /// and then starts, instead of refusing with RunAlreadyActive.</summary>
    [Parameter]
    public SwitchParameter Queue { get; set; }

    /// <summary>Continues the export's interrupted run from its last checkpoint instead of starting over:
    /// the kept partial file is completed, with no duplicates.</summary>
    [Parameter]
    public SwitchParameter Resume { get; set; }

    /// <summary>The key of an encrypted export (SecureString or base64).</summary>
    [Parameter]
    public object? EncryptionKey { get; set; }

    #endregion

    Engine.Runs.RunHandle? StartOrWait(Engine.Exports.ExportService service, string name)
    {
        while (true)
        {
            try { return service.Start(name, RunTrigger.Manual, EncryptionKeys.From(EncryptionKey), Resume, Stopping); }
            catch (Engine.Exports.ExportException ex) when (Queue && ex.Code == Engine.Exports.ExportErrorCode.RunAlreadyActive)
            {
                WriteVerbose($"'{name}' has an active run; waiting for it to finish (-Queue).");
                if (Stopping.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(500))) return null;
            }
        }
    }

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            InvokeForItem(() =>
            {
                var service = Service();
                var export = service.Get(name);
                if (!ShouldProcess(export.Name, Resume ? "Resume the interrupted run of export" : "Run export")) return;
                var handle = StartOrWait(service, export.Name);
                if (handle is null) return; // stopped while waiting for the active run
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
