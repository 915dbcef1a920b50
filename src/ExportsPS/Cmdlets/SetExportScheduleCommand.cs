using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Engine.Scheduling;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Set-ExportSchedule: runs an export by itself — a crontab (UTC), an interval or a preset —
/// and pauses, resumes or clears that schedule.</summary>
[Cmdlet(VerbsCommon.Set, "ExportSchedule", SupportsShouldProcess = true, DefaultParameterSetName = CronSet)]
[OutputType(typeof(ExportScheduleInfo), ParameterSetName = [CronSet, IntervalSet, HourlySet, DailySet, WeeklySet, MonthlySet, DisableSet, EnableSet])]
public sealed class SetExportScheduleCommand : ExportCmdletBase
{
    const string CronSet = "Cron";
    const string IntervalSet = "Interval";
    const string HourlySet = "Hourly";
    const string DailySet = "Daily";
    const string WeeklySet = "Weekly";
    const string MonthlySet = "Monthly";
    const string DisableSet = "Disable";
    const string EnableSet = "Enable";
    const string ClearSet = "Clear";

    #region Parameters

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    public string[] Name { get; set; } = [];

    /// <summary>A 5-field crontab in UTC: minute hour day-of-month month day-of-week.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = CronSet)]
    public string Cron { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = IntervalSet)]
    public TimeSpan Interval { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = HourlySet)]
    public SwitchParameter Hourly { get; set; }

    [Parameter(ParameterSetName = HourlySet)]
    [ValidateRange(0, 59)]
    public int Minute { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = DailySet)]
    public SwitchParameter Daily { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = WeeklySet)]
    public SwitchParameter Weekly { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = WeeklySet)]
    public DayOfWeek DayOfWeek { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = MonthlySet)]
    public SwitchParameter Monthly { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = MonthlySet)]
    [ValidateRange(1, 31)]
    public int DayOfMonth { get; set; }

    /// <summary>The UTC time of day for -Daily, -Weekly and -Monthly, e.g. 02:00.</summary>
    [Parameter(ParameterSetName = DailySet)]
    [Parameter(ParameterSetName = WeeklySet)]
    [Parameter(ParameterSetName = MonthlySet)]
    public TimeSpan At { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = DisableSet)]
    public SwitchParameter Disable { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = EnableSet)]
    public SwitchParameter Enable { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ClearSet)]
    public SwitchParameter Clear { get; set; }

    #endregion

    protected override void BeginProcessing()
    {
        if (At < TimeSpan.Zero || At >= TimeSpan.FromDays(1))
            ThrowTerminatingError(ErrorRecords.From(new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidSchedule,
                $"-At {At} is not a time of day; use 00:00 to 23:59 (UTC).", At)));
        if (At.Ticks % TimeSpan.TicksPerMinute != 0)
            ThrowTerminatingError(ErrorRecords.From(new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidSchedule,
                $"-At {At} has seconds, but schedules run on whole minutes (UTC): use {At:hh\\:mm} or the minute after.", At)));
        // Refuse a bad crontab or interval before touching any export.
        Invoke(() =>
        {
            if (ParameterSetName is CronSet or IntervalSet)
            {
                var (kind, expression) = Requested();
                ExportSchedule.Validate(kind, expression);
            }
        });
    }

    (ScheduleKind Kind, string Expression) Requested() => ParameterSetName switch
    {
        IntervalSet => (ScheduleKind.Interval, Interval.ToString("c")),
        HourlySet => (ScheduleKind.Cron, $"{Minute} * * * *"),
        DailySet => (ScheduleKind.Cron, $"{At.Minutes} {At.Hours} * * *"),
        WeeklySet => (ScheduleKind.Cron, $"{At.Minutes} {At.Hours} * * {(int)DayOfWeek}"),
        MonthlySet => (ScheduleKind.Cron, $"{At.Minutes} {At.Hours} {DayOfMonth} * *"),
        _ => (ScheduleKind.Cron, string.Join(' ', Cron.Split(' ', StringSplitOptions.RemoveEmptyEntries))),
    };

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            InvokeForItem(() =>
            {
                var service = Service();
                var export = service.Get(name);
                // The time is read after each confirmation, never before: a prompt left open across a tick would make resuming run it at once.
                switch (ParameterSetName)
                {
                    case ClearSet:
                        if (ShouldProcess(export.Name, "Clear schedule (the export and its file stay)")) service.Schedules.Clear(export.Name, service.Catalog.Now());
                        return;
                    case DisableSet:
                    case EnableSet:
                        if (ShouldProcess(export.Name, Enable ? "Resume schedule" : "Pause schedule"))
                        {
                            var now = service.Catalog.Now();
                            WriteObject(EngineAccess.ToScheduleInfo(service.Schedules.SetEnabled(export.Name, Enable, now), now));
                        }
                        return;
                    default:
                        var (kind, expression) = Requested();
                        if (ShouldProcess(export.Name, $"Set schedule {kind.ToString().ToLowerInvariant()} '{expression}' (UTC)"))
                        {
                            var now = service.Catalog.Now();
                            WriteObject(EngineAccess.ToScheduleInfo(service.Schedules.Set(export.Name, kind, expression, now), now));
                        }
                        return;
                }
            });
        }
    }
}
