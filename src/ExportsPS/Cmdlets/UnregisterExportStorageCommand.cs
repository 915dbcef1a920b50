using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Unregister-ExportStorage: forgets an S3 target and its encrypted secret (the bucket's objects
/// stay). Refused while an export's file lives there.</summary>
[Cmdlet(VerbsLifecycle.Unregister, "ExportStorage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class UnregisterExportStorageCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegisteredStorageNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string Storage { get; set; } = "";

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        if (!ShouldProcess(Storage, "Unregister export storage")) return;
        service.UnregisterStorage(Storage);
    });
}
