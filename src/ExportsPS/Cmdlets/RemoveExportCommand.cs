using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Remove-Export: deletes the definition, its run history, its file and manifest.</summary>
[Cmdlet(VerbsCommon.Remove, "Export", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveExportCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    public string[] Name { get; set; } = [];

    /// <summary>Removes without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            InvokeForItem(() =>
            {
                var service = Service();
                var export = service.Get(name);
                if (!ShouldProcessUnlessForced(Force, export.Name, "Remove export, its file and its run history")) return;
                service.Remove(export.Name);
            });
        }
    }
}
