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

    protected override void ProcessRecord() => Invoke(() =>
    {
        var names = Name ?? [null];
        // -Last counts the events of all the names together, newest first, as for one name.
        var events = names.SelectMany(name => EngineAccess.Service().Catalog.ListAudit(name, Last))
            .DistinctBy(e => e.Id).OrderByDescending(e => e.Id).Take(Last);
        foreach (var e in events)
            WriteObject(new ExportAuditEntry
            {
                Id = e.Id, Time = e.At, Event = e.Event, Name = e.ExportName, RunId = e.RunId, Actor = e.Actor, Detail = e.Detail,
            });
    });
}
