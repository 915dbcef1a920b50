using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Unregister-ExportSource: forgets a registered source and its encrypted secret. Refused while
/// an export still reads from it.</summary>
[Cmdlet(VerbsLifecycle.Unregister, "ExportSource", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class UnregisterExportSourceCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegisteredSourceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string Source { get; set; } = "";

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        if (!ShouldProcess(Source, "Unregister export source")) return;
        service.Sources.Unregister(Source);
    });
}
