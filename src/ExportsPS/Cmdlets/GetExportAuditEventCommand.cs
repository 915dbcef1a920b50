using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportAuditEvent: the audit trail (who created, ran, canceled, downloaded, deleted what), newest first.</summary>
[Cmdlet(VerbsCommon.Get, "ExportAuditEvent")]
[OutputType(typeof(ExportAuditEntry))]
public sealed class GetExportAuditEventCommand : ExportCmdletBase
{
    /// <summary>Exports whose events to show; default: all events.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int Last { get; set; } = 100;

    readonly List<string?> _names = new();

    /// <summary>Names piped in one by one are gathered first: -Last counts the events of every name given, together,
    /// however they came (a parameter list or the pipeline).</summary>
    protected override void ProcessRecord()
    {
        if (Name is null) _names.Add(null);
        else _names.AddRange(Name);
    }

    protected override void EndProcessing() => Invoke(() =>
    {
        var catalog = Service().Catalog;
        var events = _names.Distinct().SelectMany(name => catalog.ListAudit(name, Last))
            .DistinctBy(e => e.Id).OrderByDescending(e => e.Id).Take(Last);
        foreach (var e in events)
            WriteObject(new ExportAuditEntry
            {
                Id = e.Id, Time = e.At, Event = e.Event, Name = e.ExportName, RunId = e.RunId, Actor = e.Actor, Detail = e.Detail,
            });
    });
}
