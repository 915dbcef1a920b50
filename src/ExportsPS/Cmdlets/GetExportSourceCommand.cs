using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportSource: the built-in embedded source and every registered OpenSearch source.</summary>
[Cmdlet(VerbsCommon.Get, "ExportSource")]
[OutputType(typeof(ExportSourceInfo))]
public sealed class GetExportSourceCommand : ExportCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SourceNameCompleter))]
    [SupportsWildcards]
    [Alias("Name")]
    public string[] Source { get; set; } = ["*"];

    protected override void ProcessRecord() => Invoke(() =>
    {
        var service = Service();
        var all = new[] { SourceViews.Embedded(service) }
            .Concat(service.Sources.Registered().Select(s => SourceViews.ToInfo(service, s)))
            .ToList();
        WriteMatching(all, s => s.Name, Source, "source", "Register-ExportSource adds one.");
    });
}
