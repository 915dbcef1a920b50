using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportSchedule: the schedules, their next and last runs; -Due -AsOf shows what the
/// scheduler would run at a given time.</summary>
[Cmdlet(VerbsCommon.Get, "ExportSchedule")]
[OutputType(typeof(ExportScheduleInfo))]
public sealed class GetExportScheduleCommand : ExportCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [SupportsWildcards]
    [Alias("ExportName")]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    /// <summary>Only schedules due at -AsOf (default: now).</summary>
    [Parameter]
    public SwitchParameter Due { get; set; }

    [Parameter]
    public DateTimeOffset? AsOf { get; set; }

    protected override void ProcessRecord() => Invoke(() =>
    {
        var patterns = Name.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        var service = Service();
        var asOf = AsOf ?? service.Catalog.Now();
        // An export without a schedule is not an error: Get-Export | Get-ExportSchedule shows the scheduled ones.
        foreach (var schedule in service.Schedules.List().Where(s => patterns.Any(p => p.IsMatch(s.ExportName))))
        {
            var info = EngineAccess.ToScheduleInfo(schedule, asOf);
            if (!Due || info.Due) WriteObject(info);
        }
    });
}
