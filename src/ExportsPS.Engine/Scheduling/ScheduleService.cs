using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;

namespace ExportsPS.Engine.Scheduling;

/// <summary>What the scheduler did with one due export.</summary>
public sealed record ScheduledStart(ExportSchedule Schedule, DateTimeOffset Due, RunHandle? Run, string? Skipped);

/// <summary>Schedules on top of the export service: setting them (with audit events) and running what is
/// due. Any number of schedulers may share a catalog: each tick is claimed by compare-and-set, so a due
/// run executes exactly once; a missed window (machine off) fires once, then the schedule continues from
/// the present.</summary>
public sealed class ScheduleService(ExportService exports)
{
    IExportCatalog Catalog => exports.Catalog;

    public ExportSchedule? Get(string exportName) => Catalog.FindSchedule(exports.Get(exportName).Name);

    public IReadOnlyList<ExportSchedule> List() => Catalog.ListSchedules();

    public ExportSchedule Set(string exportName, ScheduleKind kind, string expression, DateTimeOffset now)
    {
        var export = exports.Get(exportName);
        if (export.KeyFingerprint is not null)
            throw new ExportException(ExportErrorCode.InvalidSchedule,
                $"Export '{export.Name}' is encrypted with a key only its owner holds (the engine keeps just the fingerprint), so no scheduler can run it. " +
                "Schedule an unencrypted export, or run this one with Start-Export -EncryptionKey.", export.Name);
        ExportSchedule.Validate(kind, expression);
        // An edit keeps a paused schedule paused: changing when it runs is not a request to run it again.
        var current = Catalog.FindSchedule(export.Name);
        var schedule = new ExportSchedule { ExportName = export.Name, Kind = kind, Expression = expression, Enabled = current is not { Enabled: false } };
        // The same schedule set again (a configuration script re-applied) is left as it is, with its next tick, even one
        // due now that no scheduler has claimed yet: recomputing it from the present would drop that run, and saving
        // the tick as read could undo a claim made meanwhile and run it twice.
        var unchanged = current is not null && current.Kind == kind && current.Expression == expression;
        schedule = unchanged ? current! : schedule with { NextDue = schedule.NextAfter(now), LastDue = current?.LastDue };
        if (export.DownloadWindowIsDefault && export.DownloadWindow is not null)
        {
            // Only the window changes: no source round trip, so a schedule can be set while the cluster is down.
            Catalog.UpdateExport(export with { DownloadWindow = null, DownloadWindowIsDefault = false });
            Catalog.Audit(AuditEvents.ExportUpdated, export.Name, null, exports.Actor, "download window (none): the export is scheduled", now);
        }
        if (!unchanged)
        {
            Catalog.SaveSchedule(schedule);
            schedule = Catalog.FindSchedule(export.Name) ?? schedule; // as stored: a pause made meanwhile stands
        }
        Catalog.Audit(AuditEvents.ScheduleSet, export.Name, null, exports.Actor, $"{schedule.Summary} ({kind.ToString().ToLowerInvariant()} {expression})", now);
        return schedule;
    }

    /// <summary>Pauses or resumes without losing the schedule; resuming continues from the present.</summary>
    public ExportSchedule SetEnabled(string exportName, bool enabled, DateTimeOffset now)
    {
        var schedule = Require(exportName);
        // Resuming a running schedule (or pausing a paused one) is no change: its next tick, perhaps due now and not
        // yet claimed, stays. The change is made only to the schedule as read, so an edit made meanwhile is neither
        // undone nor resumed with a tick computed from the old expression: read again, and try again.
        for (var attempt = 1; schedule.Enabled != enabled; attempt++)
        {
            var nextDue = enabled ? schedule.NextAfter(now) : (DateTimeOffset?)null;
            if (Catalog.TrySetScheduleEnabled(schedule, enabled, nextDue))
            {
                schedule = schedule with { Enabled = enabled, NextDue = nextDue ?? schedule.NextDue };
                break;
            }
            if (attempt == 10)
                throw new ExportException(ExportErrorCode.CatalogFailed,
                    $"The schedule of '{schedule.ExportName}' kept changing while it was being {(enabled ? "resumed" : "paused")}; try again.", exportName);
            schedule = Require(exportName);
        }
        Catalog.Audit(enabled ? AuditEvents.ScheduleResumed : AuditEvents.SchedulePaused, schedule.ExportName, null, exports.Actor, schedule.Summary, now);
        return schedule;
    }

    /// <summary>Removes the schedule; the export and its last file stay.</summary>
    public void Clear(string exportName, DateTimeOffset now)
    {
        var schedule = Require(exportName);
        Catalog.RemoveSchedule(schedule.ExportName);
        Catalog.Audit(AuditEvents.ScheduleCleared, schedule.ExportName, null, exports.Actor, schedule.Summary, now);
    }

    ExportSchedule Require(string exportName) =>
        Get(exportName) ?? throw new ExportException(ExportErrorCode.InvalidSchedule,
            $"Export '{exportName}' has no schedule. Set one with Set-ExportSchedule -Cron/-Interval/-Daily….", exportName);

    public IReadOnlyList<ExportSchedule> Due(DateTimeOffset asOf) =>
        Catalog.ListSchedules().Where(s => s.Enabled && s.NextDue is { } due && due <= asOf).ToList();

    /// <summary>What a scheduler pass does besides starting runs: download windows are enforced, expired files
    /// deleted (not just refused), whether or not anything is due. <paramref name="confirm"/> may veto each file.</summary>
    public int DeleteExpired(DateTimeOffset asOf, Func<string, bool>? confirm = null) => exports.DeleteExpiredArtifacts(asOf, confirm);

    /// <summary>Claims and starts the exports due at <paramref name="asOf"/>, lazily: each is claimed only
    /// when the caller asks for the next, so a scheduler that waits for each run leaves the remaining ticks
    /// to other schedulers instead of queueing hundreds of runs in one process. A tick another scheduler
    /// claimed first is not returned; an export whose previous run is still active is skipped. With
    /// <paramref name="only"/>, exports it refuses are left due (not claimed) for a later pass. Canceling gives
    /// back the tick whose run was being checked.</summary>
    public IEnumerable<ScheduledStart> StartDue(DateTimeOffset asOf, Func<string, bool>? only = null, CancellationToken cancellationToken = default)
    {
        var pass = System.Diagnostics.Stopwatch.StartNew();
        foreach (var schedule in Due(asOf))
        {
            if (only is not null && !only(schedule.ExportName)) continue;
            var due = schedule.NextDue!.Value;
            // The next tick counts from when this one is claimed: a caller that waited for a long run before
            // asking would otherwise set a next tick that is already past, and the export would run twice.
            var next = schedule.NextAfter(asOf + pass.Elapsed);
            if (!Catalog.TryClaimTick(schedule, next)) continue;
            // A claimed tick that neither ran nor left a failed run behind is given back for the next pass, not lost.
            void GiveTickBack()
            {
                try { Catalog.TryRearm(schedule.ExportName, next, due); } catch (Exception) { /* the catalog is away */ }
            }
            ScheduledStart start;
            try { start = new ScheduledStart(schedule, due, exports.Start(schedule.ExportName, RunTrigger.Schedule, cancellationToken: cancellationToken), null); }
            catch (ExportException ex) when (ex.Code == ExportErrorCode.RunAlreadyActive)
            {
                start = new ScheduledStart(schedule, due, null, ex.Message); // the tick is skipped, as documented
            }
            catch (ExportException ex) when (ex.Code == ExportErrorCode.ExportNotFound)
            {
                // A schedule left behind by an export removed meanwhile: no run can be recorded for it, and given back
                // it would be claimed (and fail) first at every pass. It goes, so the other schedules run.
                try { Catalog.RemoveSchedule(schedule.ExportName); } catch (Exception) { /* the next pass tries again */ }
                start = new ScheduledStart(schedule, due, null, $"{ex.Message} Its schedule was removed.");
            }
            catch (Exception ex) when (ex is not (System.Data.Common.DbException or ExportException { Code: ExportErrorCode.CatalogFailed } or OperationCanceledException))
            {
                // Claimed but refused before it ran (the source down at 02:00, a query the index no longer takes):
                // a failed run says so where users look (Get-ExportStatus, the audit), not only in a warning.
                var reason = ex is ExportException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                RunRecord failed;
                try { failed = exports.RecordFailedStart(schedule.ExportName, RunTrigger.Schedule, reason, (ex as ExportException)?.Code); }
                catch (Exception)
                {
                    GiveTickBack(); // not even the failure could be recorded
                    throw;
                }
                start = new ScheduledStart(schedule, due, null, $"{reason} (recorded as failed run {failed.Id})");
            }
            catch (Exception)
            {
                GiveTickBack(); // not the export's fault: the catalog went away mid-claim
                throw;
            }
            yield return start;
        }
    }
}
