using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-Export: lists export definitions with their latest run. -Name accepts wildcards.</summary>
[Cmdlet(VerbsCommon.Get, "Export")]
[OutputType(typeof(ExportInfo))]
public sealed class GetExportCommand : ExportCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [SupportsWildcards]
    [Alias("ExportName")]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        Invoke(() =>
        {
            var service = Service();
            var exports = service.List();
            foreach (var name in Name)
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                    foreach (var export in exports.Where(e => pattern.IsMatch(e.Name)))
                        WriteObject(EngineAccess.ToInfo(service, export));
                }
                else
                {
                    InvokeForItem(() => WriteObject(EngineAccess.ToInfo(service, service.Get(name))));
                }
            }
        });
    }
}
