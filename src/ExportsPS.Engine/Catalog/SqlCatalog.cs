using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;

namespace ExportsPS.Engine.Catalog;

/// <summary>The catalog in plain SQL that SQLite and PostgreSQL both speak. Times are stored as fixed-width
/// UTC ISO-8601 text so they sort and compare the same in both. Dialects supply connections, the
/// migrations and how they report a unique-constraint violation.</summary>
public abstract class SqlCatalog : IExportCatalog
{
    protected static readonly JsonSerializerOptions DefinitionJson = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>This host's clock; <see cref="Now"/> may correct it (tests skew it).</summary>
    protected TimeProvider LocalClock { get; init; } = TimeProvider.System;

    public virtual DateTimeOffset Now() => LocalClock.GetUtcNow();

    protected abstract DbConnection OpenConnection();
    protected abstract bool IsUniqueViolation(DbException exception);
    /// <summary>Schema migrations in order; migration N brings the schema to version N+1.</summary>
    protected abstract IReadOnlyList<string> Migrations { get; }
    /// <summary>Runs the migrations under the dialect's own exclusive lock.</summary>
    protected abstract void Migrate(DbConnection connection);

    public const string RunColumns =
        "id, export_name, tenant, status, trigger_kind, queued_at, started_at, ended_at, heartbeat_at, host, actor, " +
        "processed, total, records, bytes, sha256, location, error, warnings, cancel_requested, error_code";

    public static string Time(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public void Initialize()
    {
        try
        {
            using var connection = OpenConnection();
            Migrate(connection);
        }
        catch (DbException ex)
        {
            throw new ExportException(ExportErrorCode.CatalogFailed, $"The catalog cannot be opened or migrated: {ex.Message}", null, ex);
        }
    }

    /// <summary>Applies pending migrations; called by dialects inside their lock/transaction.</summary>
    protected void ApplyMigrations(DbConnection connection, DbTransaction transaction)
    {
        Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        var current = Convert.ToInt32(Scalar(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
        if (current > Migrations.Count)
            throw new ExportException(ExportErrorCode.CatalogFailed,
                $"The catalog's schema is version {current}, newer than this ExportsPS understands ({Migrations.Count}). Update the module.");
        for (var version = current; version < Migrations.Count; version++)
        {
            foreach (var statement in Migrations[version].Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (statement.Length > 0) Execute(connection, transaction, statement);
            Execute(connection, transaction, "INSERT INTO schema_version (version) VALUES (@v)", ("v", version + 1));
        }
    }

    public int SchemaVersion()
    {
        using var connection = OpenConnection();
        return Convert.ToInt32(Scalar(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    }

    // ---- exports -------------------------------------------------------------------------------

    public void AddExport(ExportDefinition export)
    {
        using var connection = OpenConnection();
        try
        {
            Execute(connection, null,
                "INSERT INTO exports (name, name_key, tenant, definition, created_at, updated_at) VALUES (@name, @key, @tenant, @definition, @now, @now)",
                ("name", export.Name), ("key", export.Name.ToLowerInvariant()), ("tenant", export.Tenant),
                ("definition", JsonSerializer.Serialize(export, DefinitionJson)), ("now", Time(export.CreatedAt)));
        }
        catch (DbException ex) when (IsUniqueViolation(ex))
        {
            throw new ExportException(ExportErrorCode.DuplicateName,
                $"An export named '{export.Name}' already exists. Choose another name, or change it with Set-Export / remove it with Remove-Export.",
                export.Name, ex);
        }
    }

    public void UpdateExport(ExportDefinition export)
    {
        using var connection = OpenConnection();
        var changed = Execute(connection, null,
            "UPDATE exports SET definition = @definition, tenant = @tenant, updated_at = @now WHERE name_key = @key",
            ("definition", JsonSerializer.Serialize(export, DefinitionJson)), ("tenant", export.Tenant),
            ("now", Time(Now())), ("key", export.Name.ToLowerInvariant()));
        if (changed == 0) throw NotFound(export.Name);
    }

    public ExportDefinition? FindExport(string name)
    {
        using var connection = OpenConnection();
        using var command = Command(connection, null, "SELECT definition FROM exports WHERE name_key = @key", ("key", name.ToLowerInvariant()));
        var json = command.ExecuteScalar() as string;
        return json is null ? null : JsonSerializer.Deserialize<ExportDefinition>(json, DefinitionJson);
    }

    public IReadOnlyList<ExportDefinition> ListExports()
    {
        using var connection = OpenConnection();
        using var command = Command(connection, null, "SELECT definition FROM exports ORDER BY name_key");
        using var reader = command.ExecuteReader();
        var list = new List<ExportDefinition>();
        while (reader.Read()) list.Add(JsonSerializer.Deserialize<ExportDefinition>(reader.GetString(0), DefinitionJson)!);
        return list;
    }

    public bool RemoveExport(string name)
    {
        using var connection = OpenConnection();
        using var transaction = BeginWrite(connection);
        var key = name.ToLowerInvariant();
        LockExport(connection, transaction, key);
        // Checked again here: a scheduler on another host may have started a run since the caller looked.
        if (Scalar(connection, transaction, "SELECT id FROM runs WHERE active_key = @key", ("key", key)) is string active)
            throw new ExportException(ExportErrorCode.RunAlreadyActive,
                $"Export '{name}' has an active run ({active}). Stop it with Stop-Export first.", name);
        Execute(connection, transaction, "DELETE FROM runs WHERE export_key = @key", ("key", key));
        Execute(connection, transaction, "DELETE FROM schedules WHERE name_key = @key", ("key", key));
        Execute(connection, transaction, "DELETE FROM resume_points WHERE export_key = @key", ("key", key));
        var removed = Execute(connection, transaction, "DELETE FROM exports WHERE name_key = @key", ("key", key));
        transaction.Commit();
        return removed > 0;
    }

    static ExportException NotFound(string name) =>
        new(ExportErrorCode.ExportNotFound, $"No export named '{name}' exists. Get-Export lists the exports.", name);

    // ---- runs ----------------------------------------------------------------------------------

    public RunRecord CreateRun(string exportName, string tenant, RunTrigger trigger, string host, string actor)
    {
        var run = new RunRecord
        {
            Id = Guid.NewGuid().ToString("N"),
            ExportName = exportName,
            Tenant = tenant,
            Status = RunStatus.Queued,
            Trigger = trigger,
            QueuedAt = Now(),
            Host = host,
            Actor = actor,
        };
        DbException? duplicate = null;
        using (var connection = OpenConnection())
        using (var transaction = BeginWrite(connection))
        {
            // A run is never created for an export being removed, nor left behind by a removal that ran in between
            // (PostgreSQL's READ COMMITTED would allow both without the lock).
            var key = LockExistingExport(connection, transaction, exportName);
            try
            {
                Execute(connection, transaction,
                    "INSERT INTO runs (id, export_name, export_key, tenant, status, trigger_kind, queued_at, heartbeat_at, host, actor, processed, warnings, cancel_requested, active_key) " +
                    "VALUES (@id, @name, @key, @tenant, 'queued', @trigger, @queued, @queued, @host, @actor, 0, '[]', 0, @key)",
                    ("id", run.Id), ("name", exportName), ("key", key), ("tenant", tenant),
                    ("trigger", trigger.ToString().ToLowerInvariant()), ("queued", Time(run.QueuedAt)), ("host", host), ("actor", actor));
                transaction.Commit();
            }
            catch (DbException violation) when (IsUniqueViolation(violation)) { duplicate = violation; }
        }
        if (duplicate is { } ex)
        {
            var active = ActiveRunOf(exportName);
            throw new ExportException(ExportErrorCode.RunAlreadyActive,
                $"Export '{exportName}' already has a {active?.Status.ToString().ToLowerInvariant() ?? "active"} run" +
                (active is null ? "" : $" ({active.Id}, started by {active.Actor} on {active.Host})") +
                ". Wait for it (Get-ExportStatus -Wait) or stop it (Stop-Export) before starting another.",
                exportName, ex);
        }
        return run;
    }

    RunRecord? ActiveRunOf(string exportName)
    {
        using var connection = OpenConnection();
        return QueryRuns(connection, $"SELECT {RunColumns} FROM runs WHERE active_key = @key", ("key", exportName.ToLowerInvariant())).FirstOrDefault();
    }

    /// <summary>Serialises tenant slot checks: SQLite's write lock does it already; PostgreSQL takes an
    /// advisory lock per tenant for the transaction.</summary>
    protected virtual void LockTenant(DbConnection connection, DbTransaction transaction, string tenant) { }

    /// <summary>Serialises an export's removal with the creation of its runs, as <see cref="LockTenant"/> does.</summary>
    protected virtual void LockExport(DbConnection connection, DbTransaction transaction, string exportKey) { }

    /// <summary>Takes the export's lock, as RemoveExport does, then requires the export to exist (ExportNotFound):
    /// what the transaction adds for it cannot outlive a removal. Returns the export's key.</summary>
    string LockExistingExport(DbConnection connection, DbTransaction transaction, string exportName)
    {
        var key = exportName.ToLowerInvariant();
        LockExport(connection, transaction, key);
        if (Scalar(connection, transaction, "SELECT name_key FROM exports WHERE name_key = @key", ("key", key)) is null) throw NotFound(exportName);
        return key;
    }

    protected virtual DbTransaction BeginWrite(DbConnection connection) => connection.BeginTransaction();

    public RunStatus TryStartRun(string runId, string host, int tenantLimit, DateTimeOffset now)
    {
        using var connection = OpenConnection();
        using var transaction = BeginWrite(connection);
        var tenant = Scalar(connection, transaction, "SELECT tenant FROM runs WHERE id = @id", ("id", runId)) as string ?? "";
        LockTenant(connection, transaction, tenant);
        var started = Execute(connection, transaction,
            "UPDATE runs SET status = 'running', started_at = @now, heartbeat_at = @now, host = @host " +
            "WHERE id = @id AND status = 'queued' AND (SELECT COUNT(*) FROM runs WHERE tenant = @tenant AND status = 'running') < @limit",
            ("now", Time(now)), ("host", host), ("id", runId), ("tenant", tenant), ("limit", tenantLimit)) == 1;
        if (!started)
            Execute(connection, transaction, "UPDATE runs SET heartbeat_at = @now WHERE id = @id AND status = 'queued'", ("now", Time(now)), ("id", runId));
        var status = Scalar(connection, transaction, "SELECT status FROM runs WHERE id = @id", ("id", runId)) as string ?? "failed";
        transaction.Commit();
        return Enum.Parse<RunStatus>(status, ignoreCase: true);
    }

    public long TenantUsage(string tenant, DateTimeOffset since)
    {
        using var connection = OpenConnection();
        return Usage(connection, null, tenant, since, exceptRun: "");
    }

    public (bool Granted, long Used) TryReserveQuota(string runId, string tenant, long bytes, long quota, DateTimeOffset since)
    {
        using var connection = OpenConnection();
        using var transaction = BeginWrite(connection);
        LockTenant(connection, transaction, tenant);
        var used = Usage(connection, transaction, tenant, since, exceptRun: runId);
        var granted = used + bytes <= quota;
        if (granted) Execute(connection, transaction, "UPDATE runs SET reserved_bytes = @bytes WHERE id = @id", ("bytes", bytes), ("id", runId));
        transaction.Commit();
        return (granted, used);
    }

    // A run's reservation and its completed bytes are one row changed by one statement: counted once either way.
    // Two index searches (runs_by_tenant), not one OR: the OR made SQLite read every completed run of every tenant.
    internal const string UsageSql =
        "SELECT COALESCE(SUM(counted), 0) FROM (" +
        "SELECT bytes AS counted FROM runs WHERE tenant = @tenant AND status = 'completed' AND ended_at >= @since AND id <> @except " +
        "UNION ALL SELECT reserved_bytes FROM runs WHERE tenant = @tenant AND status = 'running' AND id <> @except) AS usage";

    long Usage(DbConnection connection, DbTransaction? transaction, string tenant, DateTimeOffset since, string exceptRun) =>
        Convert.ToInt64(Scalar(connection, transaction, UsageSql, ("tenant", tenant), ("since", Time(since)), ("except", exceptRun)));

    public bool Heartbeat(string runId, long processed, long? total, DateTimeOffset now)
    {
        using var connection = OpenConnection();
        using var command = Command(connection, null,
            "UPDATE runs SET processed = @processed, total = @total, heartbeat_at = @now WHERE id = @id AND status = 'running' RETURNING cancel_requested",
            ("processed", processed), ("total", (object?)total ?? DBNull.Value), ("now", Time(now)), ("id", runId));
        var result = command.ExecuteScalar();
        // No row: the run was settled elsewhere (failed as stale, canceled while queued) — stop.
        return result is null or DBNull || Convert.ToInt64(result) != 0;
    }

    public void FinishRun(string runId, RunOutcome outcome, DateTimeOffset now)
    {
        using var connection = OpenConnection();
        Execute(connection, null,
            "UPDATE runs SET status = @status, ended_at = @now, heartbeat_at = @now, processed = @processed, total = @total, " +
            "records = @records, bytes = @bytes, sha256 = @sha, location = @location, error = @error, error_code = @code, warnings = @warnings, active_key = NULL " +
            // A run settled elsewhere (failed as stale by another host while this one was paused) stays as it was settled.
            "WHERE id = @id AND status IN ('queued', 'running')",
            ("status", outcome.Status.ToString().ToLowerInvariant()), ("now", Time(now)), ("processed", outcome.Processed),
            ("total", (object?)outcome.Total ?? DBNull.Value), ("records", (object?)outcome.Records ?? DBNull.Value),
            ("bytes", (object?)outcome.Bytes ?? DBNull.Value), ("sha", (object?)outcome.Sha256 ?? DBNull.Value),
            ("location", (object?)outcome.Location ?? DBNull.Value), ("error", (object?)outcome.Error ?? DBNull.Value),
            ("code", (object?)outcome.ErrorCode?.ToString() ?? DBNull.Value),
            ("warnings", JsonSerializer.Serialize(outcome.Warnings)), ("id", runId));
    }

    public bool RequestCancel(string runId, DateTimeOffset now)
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        var queued = Execute(connection, transaction,
            "UPDATE runs SET status = 'canceled', ended_at = @now, cancel_requested = 1, error = 'Canceled before it started.', active_key = NULL " +
            "WHERE id = @id AND status = 'queued'", ("now", Time(now)), ("id", runId));
        var running = Execute(connection, transaction,
            "UPDATE runs SET cancel_requested = 1 WHERE id = @id AND status = 'running'", ("id", runId));
        transaction.Commit();
        return queued + running > 0;
    }

    public RunRecord? FindRun(string runId)
    {
        using var connection = OpenConnection();
        return QueryRuns(connection, $"SELECT {RunColumns} FROM runs WHERE id = @id", ("id", runId)).FirstOrDefault();
    }

    public RunRecord? LatestRun(string exportName)
    {
        using var connection = OpenConnection();
        return QueryRuns(connection,
            $"SELECT {RunColumns} FROM runs WHERE export_key = @key ORDER BY queued_at DESC, id DESC LIMIT 1",
            ("key", exportName.ToLowerInvariant())).FirstOrDefault();
    }

    public IReadOnlyList<RunRecord> ListRuns(string? exportName, int limit)
    {
        using var connection = OpenConnection();
        return exportName is null
            ? QueryRuns(connection, $"SELECT {RunColumns} FROM runs ORDER BY queued_at DESC, id DESC LIMIT @limit", ("limit", limit))
            : QueryRuns(connection, $"SELECT {RunColumns} FROM runs WHERE export_key = @key ORDER BY queued_at DESC, id DESC LIMIT @limit",
                ("key", exportName.ToLowerInvariant()), ("limit", limit));
    }

    public IReadOnlyList<RunRecord> ActiveRuns()
    {
        using var connection = OpenConnection();
        return QueryRuns(connection, $"SELECT {RunColumns} FROM runs WHERE status IN ('queued', 'running') ORDER BY queued_at");
    }

    public IReadOnlyList<RunRecord> FailStaleRuns(DateTimeOffset heartbeatBefore, DateTimeOffset now, string reason)
    {
        using var connection = OpenConnection();
        // RETURNING (SQLite 3.35+, PostgreSQL): each stale run is reported to the one caller that failed it.
        return QueryRuns(connection,
            "UPDATE runs SET status = 'failed', ended_at = @now, error = @reason, error_code = 'RunAbandoned', active_key = NULL " +
            $"WHERE status IN ('queued', 'running') AND heartbeat_at < @before RETURNING {RunColumns}",
            ("now", Time(now)), ("reason", reason), ("before", Time(heartbeatBefore)));
    }

    List<RunRecord> QueryRuns(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, null, sql, parameters);
        using var reader = command.ExecuteReader();
        var runs = new List<RunRecord>();
        while (reader.Read()) runs.Add(ReadRun(reader));
        return runs;
    }

    static RunRecord ReadRun(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        long? Number(int i) => r.IsDBNull(i) ? null : Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);
        DateTimeOffset? When(int i) => r.IsDBNull(i) ? null : ParseTime(r.GetString(i));
        return new RunRecord
        {
            Id = r.GetString(0),
            ExportName = r.GetString(1),
            Tenant = r.GetString(2),
            Status = Enum.Parse<RunStatus>(r.GetString(3), ignoreCase: true),
            Trigger = Enum.Parse<RunTrigger>(r.GetString(4), ignoreCase: true),
            QueuedAt = ParseTime(r.GetString(5)),
            StartedAt = When(6),
            EndedAt = When(7),
            HeartbeatAt = When(8),
            Host = Text(9) ?? "",
            Actor = Text(10) ?? "",
            Processed = Number(11) ?? 0,
            Total = Number(12),
            Records = Number(13),
            Bytes = Number(14),
            Sha256 = Text(15),
            Location = Text(16),
            Error = Text(17),
            Warnings = JsonSerializer.Deserialize<string[]>(Text(18) ?? "[]") ?? [],
            CancelRequested = (Number(19) ?? 0) != 0,
            // A code this version does not know (written by a newer one) reads as none rather than failing the read.
            ErrorCode = Enum.TryParse<ExportErrorCode>(Text(20), out var code) && Enum.IsDefined(code) ? code : null,
        };
    }

    // ---- registrations -------------------------------------------------------------------------

    public void SaveRegistration(string kind, string name, string definitionJson)
    {
        // An upsert, not delete-then-insert: two PostgreSQL writers would both delete nothing and one insert would fail.
        using var connection = OpenConnection();
        Execute(connection, null,
            "INSERT INTO registrations (kind, name, name_key, definition, updated_at) VALUES (@kind, @name, @key, @definition, @now) " +
            "ON CONFLICT (kind, name_key) DO UPDATE SET name = excluded.name, definition = excluded.definition, updated_at = excluded.updated_at",
            ("kind", kind), ("name", name), ("key", name.ToLowerInvariant()), ("definition", definitionJson), ("now", Time(Now())));
    }

    public string? FindRegistration(string kind, string name)
    {
        using var connection = OpenConnection();
        return Scalar(connection, null, "SELECT definition FROM registrations WHERE kind = @kind AND name_key = @key",
            ("kind", kind), ("key", name.ToLowerInvariant())) as string;
    }

    public IReadOnlyList<(string Name, string DefinitionJson)> ListRegistrations(string kind)
    {
        using var connection = OpenConnection();
        using var command = Command(connection, null, "SELECT name, definition FROM registrations WHERE kind = @kind ORDER BY name_key", ("kind", kind));
        using var reader = command.ExecuteReader();
        var list = new List<(string, string)>();
        while (reader.Read()) list.Add((reader.GetString(0), reader.GetString(1)));
        return list;
    }

    public bool RemoveRegistration(string kind, string name)
    {
        using var connection = OpenConnection();
        return Execute(connection, null, "DELETE FROM registrations WHERE kind = @kind AND name_key = @key",
            ("kind", kind), ("key", name.ToLowerInvariant())) > 0;
    }

    // ---- resume points -------------------------------------------------------------------------

    public bool SaveResumePoint(string exportName, string runId, string stateJson)
    {
        using var connection = OpenConnection();
        // Only a run still active may record where it stands: one failed as stale while it was paused must not
        // replace the point its retry continues from.
        return Execute(connection, null,
            "INSERT INTO resume_points (export_key, run_id, state, updated_at) SELECT @key, @run, @state, @now " +
            "WHERE EXISTS (SELECT 1 FROM runs WHERE id = @run AND status IN ('queued', 'running')) " +
            "ON CONFLICT (export_key) DO UPDATE SET run_id = excluded.run_id, state = excluded.state, updated_at = excluded.updated_at",
            ("key", exportName.ToLowerInvariant()), ("run", runId), ("state", stateJson), ("now", Time(Now()))) == 1;
    }

    public (string RunId, string StateJson)? FindResumePoint(string exportName)
    {
        using var connection = OpenConnection();
        using var command = Command(connection, null, "SELECT run_id, state FROM resume_points WHERE export_key = @key", ("key", exportName.ToLowerInvariant()));
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    public bool RemoveResumePoint(string exportName, string runId)
    {
        using var connection = OpenConnection();
        return Execute(connection, null, "DELETE FROM resume_points WHERE export_key = @key AND run_id = @run",
            ("key", exportName.ToLowerInvariant()), ("run", runId)) > 0;
    }

    public IReadOnlyList<string> ResumableRunIds()
    {
        using var connection = OpenConnection();
        using var command = Command(connection, null, "SELECT run_id FROM resume_points");
        using var reader = command.ExecuteReader();
        var list = new List<string>();
        while (reader.Read()) list.Add(reader.GetString(0));
        return list;
    }

    // ---- schedules -----------------------------------------------------------------------------

    const string ScheduleColumns = "export_name, kind, expression, enabled, next_due, last_due";

    public void SaveSchedule(Scheduling.ExportSchedule schedule)
    {
        using var connection = OpenConnection();
        using var transaction = BeginWrite(connection);
        // An edit read before a removal must not bring back a schedule with no export behind it, which every
        // scheduler would claim and fail on at each pass.
        var key = LockExistingExport(connection, transaction, schedule.ExportName);
        Execute(connection, transaction,
            "INSERT INTO schedules (name_key, export_name, kind, expression, enabled, next_due, last_due, updated_at) " +
            "VALUES (@key, @name, @kind, @expression, @enabled, @next, @last, @now) " +
            // Enabled and last_due belong to pause/resume and to claims: an edit read before either must not undo it.
            "ON CONFLICT (name_key) DO UPDATE SET export_name = excluded.export_name, kind = excluded.kind, expression = excluded.expression, " +
            "next_due = excluded.next_due, updated_at = excluded.updated_at",
            ("key", key), ("name", schedule.ExportName), ("kind", schedule.Kind.ToString().ToLowerInvariant()),
            ("expression", schedule.Expression), ("enabled", schedule.Enabled ? 1 : 0),
            ("next", schedule.NextDue is { } n ? Time(n) : DBNull.Value), ("last", schedule.LastDue is { } l ? Time(l) : DBNull.Value),
            ("now", Time(Now())));
        transaction.Commit();
    }

    public Scheduling.ExportSchedule? FindSchedule(string exportName)
    {
        using var connection = OpenConnection();
        return QuerySchedules(connection, $"SELECT {ScheduleColumns} FROM schedules WHERE name_key = @key", ("key", exportName.ToLowerInvariant())).FirstOrDefault();
    }

    public IReadOnlyList<Scheduling.ExportSchedule> ListSchedules()
    {
        using var connection = OpenConnection();
        return QuerySchedules(connection, $"SELECT {ScheduleColumns} FROM schedules ORDER BY next_due, name_key");
    }

    public bool RemoveSchedule(string exportName)
    {
        using var connection = OpenConnection();
        return Execute(connection, null, "DELETE FROM schedules WHERE name_key = @key", ("key", exportName.ToLowerInvariant())) > 0;
    }

    public bool TrySetScheduleEnabled(Scheduling.ExportSchedule seen, bool enabled, DateTimeOffset? nextDue)
    {
        using var connection = OpenConnection();
        // Resuming sets the next tick computed from the schedule as read: an edit since (other expression) must win.
        return Execute(connection, null,
            "UPDATE schedules SET enabled = @enabled, next_due = COALESCE(@next, next_due), updated_at = @now " +
            "WHERE name_key = @key AND enabled = @was AND kind = @kind AND expression = @expression",
            ("enabled", enabled ? 1 : 0), ("next", nextDue is { } n ? Time(n) : DBNull.Value), ("now", Time(Now())),
            ("key", seen.ExportName.ToLowerInvariant()), ("was", seen.Enabled ? 1 : 0),
            ("kind", seen.Kind.ToString().ToLowerInvariant()), ("expression", seen.Expression)) == 1;
    }

    public bool TryRearm(string exportName, DateTimeOffset seenDue, DateTimeOffset now)
    {
        using var connection = OpenConnection();
        return Execute(connection, null,
            "UPDATE schedules SET next_due = @now WHERE name_key = @key AND enabled = 1 AND next_due = @seen",
            ("now", Time(now)), ("seen", Time(seenDue)), ("key", exportName.ToLowerInvariant())) == 1;
    }

    public bool TryClaimTick(Scheduling.ExportSchedule seen, DateTimeOffset nextDue)
    {
        using var connection = OpenConnection();
        // The next tick was computed from the schedule as listed: an edit since (same next_due, other expression) must win.
        return Execute(connection, null,
            "UPDATE schedules SET next_due = @next, last_due = @seen " +
            "WHERE name_key = @key AND enabled = 1 AND next_due = @seen AND kind = @kind AND expression = @expression",
            ("next", Time(nextDue)), ("seen", Time(seen.NextDue!.Value)), ("key", seen.ExportName.ToLowerInvariant()),
            ("kind", seen.Kind.ToString().ToLowerInvariant()), ("expression", seen.Expression)) == 1;
    }

    List<Scheduling.ExportSchedule> QuerySchedules(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, null, sql, parameters);
        using var reader = command.ExecuteReader();
        var list = new List<Scheduling.ExportSchedule>();
        while (reader.Read())
            list.Add(new Scheduling.ExportSchedule
            {
                ExportName = reader.GetString(0),
                Kind = Enum.Parse<Scheduling.ScheduleKind>(reader.GetString(1), ignoreCase: true),
                Expression = reader.GetString(2),
                Enabled = Convert.ToInt64(reader.GetValue(3)) != 0,
                NextDue = reader.IsDBNull(4) ? null : ParseTime(reader.GetString(4)),
                LastDue = reader.IsDBNull(5) ? null : ParseTime(reader.GetString(5)),
            });
        return list;
    }

    // ---- audit ---------------------------------------------------------------------------------

    public void Audit(string eventName, string exportName, string? runId, string actor, string? detail, DateTimeOffset now)
    {
        using var connection = OpenConnection();
        Execute(connection, null,
            "INSERT INTO audit (at, event, export_name, run_id, actor, detail) VALUES (@at, @event, @name, @run, @actor, @detail)",
            ("at", Time(now)), ("event", eventName), ("name", exportName), ("run", (object?)runId ?? DBNull.Value),
            ("actor", actor), ("detail", (object?)detail ?? DBNull.Value));
    }

    internal const string AuditOfExportSql =
        "SELECT id, at, event, export_name, run_id, actor, detail FROM audit WHERE LOWER(export_name) = @key ORDER BY id DESC LIMIT @limit";

    public IReadOnlyList<AuditEvent> ListAudit(string? exportName, int limit)
    {
        using var connection = OpenConnection();
        using var command = exportName is null
            ? Command(connection, null, "SELECT id, at, event, export_name, run_id, actor, detail FROM audit ORDER BY id DESC LIMIT @limit", ("limit", limit))
            : Command(connection, null, AuditOfExportSql, ("key", exportName.ToLowerInvariant()), ("limit", limit));
        using var reader = command.ExecuteReader();
        var events = new List<AuditEvent>();
        while (reader.Read())
            events.Add(new AuditEvent(Convert.ToInt64(reader.GetValue(0)), ParseTime(reader.GetString(1)), reader.GetString(2),
                reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        return events;
    }

    // ---- plumbing ------------------------------------------------------------------------------

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    protected static int Execute(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    protected static object? Scalar(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteScalar();
    }
}
