using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportStorage: the built-in local folder and every registered S3 target.</summary>
[Cmdlet(VerbsCommon.Get, "ExportStorage")]
[OutputType(typeof(ExportStorageInfo))]
public sealed class GetExportStorageCommand : ExportCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(StorageNameCompleter))]
    [SupportsWildcards]
    [Alias("Name")]
    public string[] Storage { get; set; } = ["*"];

    protected override void ProcessRecord() => Invoke(() =>
    {
        var service = Service();
        var all = new[] { StorageViews.Local(service) }
            .Concat(Engine.Storage.S3.S3StorageTarget.List(service.Catalog).Select(t => StorageViews.ToInfo(service, t)))
            .ToList();
        WriteMatching(all, s => s.Name, Storage, "storage", "Register-ExportStorage adds one.");
    });
}
