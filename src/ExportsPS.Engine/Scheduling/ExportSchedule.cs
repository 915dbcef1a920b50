using System.Globalization;
using Cronos;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Scheduling;

public enum ScheduleKind { Cron, Interval }

/// <summary>When an export runs by itself: a 5-field crontab (minute hour day-of-month month day-of-week,
/// UTC, with crontab's meaning: a day matches when its day of month OR its day of week does, if both are
/// restricted; the @hourly … @yearly macros too) or a fixed interval. <see cref="NextDue"/> is what the scheduler claims; a schedule that missed
/// several ticks (machine off) fires once, then continues from the present.</summary>
public sealed record ExportSchedule
{
    public required string ExportName { get; init; }
    public required ScheduleKind Kind { get; init; }
    /// <summary>The crontab, or the interval as a TimeSpan string (01:00:00).</summary>
    public required string Expression { get; init; }
    public bool Enabled { get; init; } = true;
    public DateTimeOffset? NextDue { get; init; }
    public DateTimeOffset? LastDue { get; init; }

    static readonly string[] FieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"];
    static readonly string[] FieldExamples = ["0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-6 or SUN-SAT"];

    /// <summary>Refuses a bad 5-field crontab, naming the field that is wrong. (Returns nothing on purpose:
    /// the cmdlets call this, and a Cronos type in its signature would have to load outside the module's
    /// load context.)</summary>
    public static void ValidateCron(string expression) => ParseCron(expression);

    static readonly HashSet<string> Macros = new(StringComparer.OrdinalIgnoreCase)
        { "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly" };

    internal static CronExpression ParseCron(string expression)
    {
        if (Macros.Contains(expression?.Trim() ?? "")) return CronExpression.Parse(expression!.Trim());
        var fields = (expression ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
            throw new ExportException(ExportErrorCode.InvalidSchedule,
                $"Cron expression '{expression}' has {fields.Length} fields; it needs 5: minute hour day-of-month month day-of-week (UTC), e.g. '0 2 * * *' for 02:00 daily " +
                $"(or one of {string.Join(", ", Macros.Order())}).",
                expression);
        for (var i = 0; i < 5; i++)
        {
            var probe = new string[] { "*", "*", "*", "*", "*" };
            probe[i] = fields[i];
            try { CronExpression.Parse(string.Join(' ', probe)); }
            catch (CronFormatException)
            {
                throw new ExportException(ExportErrorCode.InvalidSchedule,
                    $"Cron expression '{expression}': the {FieldNames[i]} field '{fields[i]}' is not valid (allowed: {FieldExamples[i]}, with * , - /).",
                    expression);
            }
        }
        try { return CronExpression.Parse(expression!); } // not null: it has 5 fields
        catch (CronFormatException ex)
        {
            throw new ExportException(ExportErrorCode.InvalidSchedule, $"Cron expression '{expression}' is not valid: {ex.Message}", expression, ex);
        }
    }

    public static readonly TimeSpan LongestInterval = TimeSpan.FromDays(366);

    public static TimeSpan ParseInterval(TimeSpan interval)
    {
        if (interval < TimeSpan.FromMinutes(1))
            throw new ExportException(ExportErrorCode.InvalidSchedule,
                $"Interval {interval} is too short; the scheduler runs at most once a minute. Use at least 00:01:00.", interval);
        if (interval > LongestInterval)
            throw new ExportException(ExportErrorCode.InvalidSchedule,
                $"Interval {interval} is longer than a year ({LongestInterval.TotalDays:0} days); use a cron expression for yearly runs (e.g. '0 2 1 1 *').", interval);
        return interval;
    }

    /// <summary>Refuses what <see cref="NextAfter"/> could not compute, whoever saves the schedule.</summary>
    public static void Validate(ScheduleKind kind, string expression)
    {
        if (kind == ScheduleKind.Cron) ParseCron(expression);
        else if (TimeSpan.TryParse(expression, CultureInfo.InvariantCulture, out var interval)) ParseInterval(interval);
        else throw new ExportException(ExportErrorCode.InvalidSchedule, $"Interval '{expression}' is not a time span such as 01:00:00.", expression);
    }

    /// <summary>The first due time strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset after)
    {
        if (Kind == ScheduleKind.Interval)
        {
            var interval = TimeSpan.Parse(Expression, CultureInfo.InvariantCulture);
            // Intervals align to the epoch, so every host computes the same ticks.
            var ticks = (after.UtcTicks / interval.Ticks + 1) * interval.Ticks;
            return new DateTimeOffset(ticks, TimeSpan.Zero);
        }
        var next = NextCron(Expression, after)
                   ?? throw new ExportException(ExportErrorCode.InvalidSchedule, $"Cron expression '{Expression}' never fires.", Expression);
        return new DateTimeOffset(next, TimeSpan.Zero);
    }

    /// <summary>Cronos requires both day fields to match; crontab fires when either does (when both are restricted,
    /// e.g. '0 0 1 * 1' is the 1st of each month and every Monday): the earlier of the two readings.</summary>
    static DateTime? NextCron(string expression, DateTimeOffset after)
    {
        DateTime? Next(string text) => ParseCron(text).GetNextOccurrence(after.UtcDateTime, TimeZoneInfo.Utc, inclusive: false);
        var f = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        static bool Restricted(string field) => !field.StartsWith('*') && field != "?";
        if (f.Length != 5 || !Restricted(f[2]) || !Restricted(f[4])) return Next(expression);
        var byMonthDay = Next($"{f[0]} {f[1]} {f[2]} {f[3]} *");
        var byWeekDay = Next($"{f[0]} {f[1]} * {f[3]} {f[4]}");
        return byMonthDay is null ? byWeekDay : byWeekDay is null ? byMonthDay : byMonthDay < byWeekDay ? byMonthDay : byWeekDay;
    }

    /// <summary>"Daily · 02:00", "Every 1h", "Paused · Daily · 02:00", or the crontab itself.</summary>
    public string Summary
    {
        get
        {
            var text = Kind == ScheduleKind.Interval ? "Every " + Describe(TimeSpan.Parse(Expression, CultureInfo.InvariantCulture)) : DescribeCron(Expression);
            return Enabled ? text : "Paused · " + text;
        }
    }

    static string Describe(TimeSpan interval) =>
        interval.TotalDays >= 1 && interval.TotalDays % 1 == 0 ? $"{interval.TotalDays:0}d"
        : interval.TotalHours >= 1 && interval.TotalHours % 1 == 0 ? $"{interval.TotalHours:0}h"
        : interval.TotalMinutes % 1 == 0 ? $"{interval.TotalMinutes:0}m" : interval.ToString();

    static string DescribeCron(string expression)
    {
        var f = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool Number(string s) => int.TryParse(s, out _);
        if (f.Length != 5) return expression;
        var time = Number(f[0]) && Number(f[1]) ? $"{int.Parse(f[1]):00}:{int.Parse(f[0]):00}" : null;
        if (Number(f[0]) && f[1] == "*" && f[2] == "*" && f[3] == "*" && f[4] == "*") return $"Hourly · :{int.Parse(f[0]):00}";
        if (time is not null && f[2] == "*" && f[3] == "*" && f[4] == "*") return $"Daily · {time}";
        if (time is not null && f[2] == "*" && f[3] == "*" && Number(f[4])) return $"Weekly · {(DayOfWeek)(int.Parse(f[4]) % 7)} {time}";
        if (time is not null && Number(f[2]) && f[3] == "*" && f[4] == "*") return $"Monthly · day {f[2]} {time}";
        return $"Cron · {expression}";
    }
}
