using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportStorage: the built-in local folder and every registered S3 target.</summary>
[Cmdlet(VerbsCommon.Get, "ExportStorage")]
[OutputType(typeof(ExportStorageInfo))]
public sealed class GetExportStorageCommand : ExportCmdletBase
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(StorageNameCompleter))]
    [SupportsWildcards]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord() => Invoke(() =>
    {
        var service = EngineAccess.Service();
        var all = new[] { StorageViews.Local(service) }
            .Concat(Engine.Storage.S3.S3StorageTarget.List(service.Catalog).Select(t => StorageViews.ToInfo(service, t)))
            .ToList();
        foreach (var pattern in Name)
        {
            var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
            var matches = all.Where(s => wildcard.IsMatch(s.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                WriteError(ErrorRecords.From(new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidOption,
                    $"No storage named '{pattern}' is registered. Register-ExportStorage adds one.", pattern)));
            WriteObject(matches, enumerateCollection: true);
        }
    });
}
