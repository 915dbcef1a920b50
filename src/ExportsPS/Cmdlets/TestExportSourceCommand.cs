using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Test-ExportSource: connects and reports what an export will meet — version and distribution,
/// point-in-time and _shard_doc support, the read method and sort key, whether the index exists, its size
/// and max_result_window, and the requested fields with patterns expanded (unknown ones are errors).</summary>
[Cmdlet(VerbsDiagnostic.Test, "ExportSource")]
[OutputType(typeof(ExportSourceTestResult))]
public sealed class TestExportSourceCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SourceNameCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string Source { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Index { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[] Field { get; set; } = [];

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        if (Field.Length > 0 && Index is null)
            throw new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidOption, "-Field needs -Index: fields belong to an index.");
        var probe = service.Sources.ProbeAsync(Source, Index, Field, Stopping).GetAwaiter().GetResult();
        if (probe.IndexExists == false)
            WriteWarning($"Index '{probe.ResolvedIndex}' does not exist on source '{probe.Name}'.");
        WriteObject(SourceViews.ToResult(probe));
    });
}
