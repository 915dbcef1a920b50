using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;

namespace ExportsPS.Engine.Catalog;

/// <summary>Audit trail event names (the seed API's names).</summary>
public static class AuditEvents
{
    public const string ExportCreated = "EXPORT_CREATED";
    public const string ExportRequested = "EXPORT_REQUESTED";
    public const string ExportRerun = "EXPORT_RERUN";
    public const string ExportCanceled = "EXPORT_CANCELED";
    public const string ExportDownloaded = "EXPORT_DOWNLOADED";
    public const string ExportDeleted = "EXPORT_DELETED";
    public const string ExportUpdated = "EXPORT_UPDATED";
    public const string ScheduleSet = "SCHEDULE_SET";
    public const string SchedulePaused = "SCHEDULE_PAUSED";
    public const string ScheduleResumed = "SCHEDULE_RESUMED";
    public const string ScheduleCleared = "SCHEDULE_CLEARED";
    public const string QuotaRefused = "QUOTA_REFUSED";
    public const string ArtifactExpired = "ARTIFACT_EXPIRED";
    public const string ExportResumed = "EXPORT_RESUMED";
}

public sealed record AuditEvent(
    long Id,
    DateTimeOffset At,
    string Event,
    string ExportName,
    string? RunId,
    string Actor,
    string? Detail);

/// <summary>The only place that knows what happened: exports, runs and the audit trail. SQLite by
/// default; PostgreSQL implements the same contract for catalogs shared by several hosts.</summary>
public interface IExportCatalog
{
    /// <summary>Creates or migrates the schema to the current version.</summary>
    void Initialize();

    /// <summary>The time every host sharing this catalog agrees on, for whatever other hosts judge by it: heartbeats
    /// (a host whose clock runs ahead would fail live runs elsewhere as stale), schedule ticks (it would fire them
    /// early), download windows. PostgreSQL: the database server's clock; SQLite (one host): this host's.</summary>
    DateTimeOffset Now();

    /// <summary>Throws DuplicateName when an export of that name (case-insensitive) exists.</summary>
    void AddExport(ExportDefinition export);
    void UpdateExport(ExportDefinition export);
    ExportDefinition? FindExport(string name);
    IReadOnlyList<ExportDefinition> ListExports();
    /// <summary>Removes the export and its run history; the audit trail stays.</summary>
    bool RemoveExport(string name);

    /// <summary>Creates a queued run. Throws RunAlreadyActive when the export has a queued or running run:
    /// the store enforces at most one active run per export, across processes and hosts.</summary>
    RunRecord CreateRun(string exportName, string tenant, RunTrigger trigger, string host, string actor);
    /// <summary>queued → running, only while fewer than <paramref name="tenantLimit"/> runs of the run's tenant
    /// are running (checked and changed atomically across hosts). Otherwise the run stays queued and its
    /// heartbeat is refreshed. Returns the run's status afterwards.</summary>
    RunStatus TryStartRun(string runId, string host, int tenantLimit, DateTimeOffset now);
    /// <summary>Compressed bytes of the tenant's runs completed since <paramref name="since"/>, plus those reserved
    /// by its runs publishing now (<see cref="TryReserveQuota"/>).</summary>
    long TenantUsage(string tenant, DateTimeOffset since);
    /// <summary>Sets aside <paramref name="bytes"/> of the tenant's quota for a running run about to publish its file, when
    /// the tenant's usage since <paramref name="since"/> leaves room for them under <paramref name="quota"/>: checked and set
    /// atomically across hosts, so runs finishing together cannot each take the same room. The reservation counts as
    /// usage until the run is settled (completed, its bytes count instead). Returns the usage before this run's bytes.</summary>
    (bool Granted, long Used) TryReserveQuota(string runId, string tenant, long bytes, long quota, DateTimeOffset since);
    /// <summary>Records progress and liveness; returns true when cancellation was requested.</summary>
    bool Heartbeat(string runId, long processed, long? total, DateTimeOffset now);
    /// <summary>Settles a queued or running run; one already settled (failed as stale elsewhere) is left as it is.</summary>
    void FinishRun(string runId, RunOutcome outcome, DateTimeOffset now);
    /// <summary>Asks the run's executor to stop (it polls); a queued run is canceled at once.</summary>
    bool RequestCancel(string runId, DateTimeOffset now);
    RunRecord? FindRun(string runId);
    RunRecord? LatestRun(string exportName);
    IReadOnlyList<RunRecord> ListRuns(string? exportName, int limit);
    IReadOnlyList<RunRecord> ActiveRuns();
    /// <summary>Marks running runs whose heartbeat is older than <paramref name="heartbeatBefore"/> failed and
    /// returns them (now failed): each to exactly one of any number of concurrent callers.</summary>
    IReadOnlyList<RunRecord> FailStaleRuns(DateTimeOffset heartbeatBefore, DateTimeOffset now, string reason);

    /// <summary>Named configuration objects (kind "source", "storage", …) stored as JSON. Secrets inside
    /// must already be encrypted with <see cref="Secrets.SecretVault"/>: the catalog stores text as given.</summary>
    void SaveRegistration(string kind, string name, string definitionJson);
    string? FindRegistration(string kind, string name);
    IReadOnlyList<(string Name, string DefinitionJson)> ListRegistrations(string kind);
    bool RemoveRegistration(string kind, string name);

    /// <summary>Creates the export's schedule, or changes when it runs (kind, expression, next tick): a stored schedule
    /// keeps its Enabled and LastDue, which only <see cref="TrySetScheduleEnabled"/> and claims change, so an edit read
    /// before a concurrent pause does not resume it. ExportNotFound when the export does not exist (removed meanwhile).</summary>
    void SaveSchedule(Scheduling.ExportSchedule schedule);
    /// <summary>Pauses or resumes the schedule as it was <paramref name="seen"/> (moving its next tick to
    /// <paramref name="nextDue"/> when given); false, changing nothing, when it was edited, paused or resumed since.</summary>
    bool TrySetScheduleEnabled(Scheduling.ExportSchedule seen, bool enabled, DateTimeOffset? nextDue);
    Scheduling.ExportSchedule? FindSchedule(string exportName);
    IReadOnlyList<Scheduling.ExportSchedule> ListSchedules();
    bool RemoveSchedule(string exportName);
    /// <summary>Claims the tick the schedule was <paramref name="seen"/> due at by moving it to <paramref name="nextDue"/>,
    /// unless the schedule was edited since; true for exactly one caller among any number of concurrent schedulers.</summary>
    bool TryClaimTick(Scheduling.ExportSchedule seen, DateTimeOffset nextDue);
    /// <summary>Makes an enabled schedule due at <paramref name="now"/> if its next tick is still
    /// <paramref name="seenDue"/> (a retry); changes nothing else, so a concurrent pause or edit stands.</summary>
    bool TryRearm(string exportName, DateTimeOffset seenDue, DateTimeOffset now);

    /// <summary>Records the export's resume point (replacing any earlier one): the run whose partial file it
    /// describes and its state as JSON (see <see cref="Runs.ResumePoint"/>). False, saving nothing, when that run is
    /// no longer active (settled elsewhere, e.g. failed as stale while its process was paused).</summary>
    bool SaveResumePoint(string exportName, string runId, string stateJson);
    (string RunId, string StateJson)? FindResumePoint(string exportName);
    /// <summary>Removes the export's resume point if it is still <paramref name="runId"/>'s, so a run removing its own
    /// never removes the one a later run recorded.</summary>
    bool RemoveResumePoint(string exportName, string runId);
    /// <summary>Runs whose partial files must be kept for a resume.</summary>
    IReadOnlyList<string> ResumableRunIds();

    void Audit(string eventName, string exportName, string? runId, string actor, string? detail, DateTimeOffset now);
    IReadOnlyList<AuditEvent> ListAudit(string? exportName, int limit);
}
