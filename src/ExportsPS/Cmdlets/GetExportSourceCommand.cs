using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportSource: the built-in embedded source and every registered OpenSearch source.</summary>
[Cmdlet(VerbsCommon.Get, "ExportSource")]
[OutputType(typeof(ExportSourceInfo))]
public sealed class GetExportSourceCommand : ExportCmdletBase
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SourceNameCompleter))]
    [SupportsWildcards]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord() => Invoke(() =>
    {
        var service = EngineAccess.Service();
        var all = new[] { SourceViews.Embedded(service) }
            .Concat(service.Sources.Registered().Select(s => SourceViews.ToInfo(service, s)))
            .ToList();
        foreach (var pattern in Name)
        {
            var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
            var matches = all.Where(s => wildcard.IsMatch(s.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                WriteError(ErrorRecords.From(new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidOption,
                    $"No source named '{pattern}' is registered. Register-ExportSource adds one.", pattern)));
            WriteObject(matches, enumerateCollection: true);
        }
    });
}
