using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Scheduling;
using Npgsql;

namespace ExportsPS.Engine.Tests;

/// <summary>What every catalog must do, run against SQLite and PostgreSQL alike.</summary>
public abstract class CatalogContract : IDisposable
{
    protected abstract SqlCatalog Catalog { get; }
    /// <summary>A second, independent catalog on the same store (another process or host).</summary>
    protected abstract SqlCatalog Another();
    public abstract void Dispose();

    static readonly DateTimeOffset Noon = new(2026, 6, 19, 12, 0, 0, TimeSpan.Zero);

    protected void Migrates_idempotently_and_concurrently()
    {
        Parallel.For(0, 4, _ => Another().Initialize());
        Assert.Equal(CatalogSchema.Migrations.Count, Catalog.SchemaVersion());
    }

    protected void Stores_exports_case_insensitively_and_refuses_duplicates()
    {
        Catalog.AddExport(new ExportDefinition { Name = "Daily-Auth", Query = "a:b", Fields = ["x", "y.z"], CreatedAt = Noon });
        var found = Catalog.FindExport("daily-auth")!;
        Assert.Equal(("Daily-Auth", "a:b"), (found.Name, found.Query));
        Assert.Equal(["x", "y.z"], found.Fields);
        Assert.Equal(ExportErrorCode.DuplicateName,
            Assert.Throws<ExportException>(() => Catalog.AddExport(new ExportDefinition { Name = "DAILY-AUTH", Query = "*", CreatedAt = Noon })).Code);
        Assert.True(Catalog.RemoveExport("daily-AUTH"));
        Assert.Null(Catalog.FindExport("Daily-Auth"));
    }

    protected void Allows_one_active_run_per_export_across_connections()
    {
        Catalog.AddExport(new ExportDefinition { Name = "contended", Query = "*", CreatedAt = Noon });
        var outcomes = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 20, _ =>
        {
            try { Another().CreateRun("contended", "default", RunTrigger.Manual, "h", "a"); outcomes.Add("created"); }
            catch (ExportException ex) when (ex.Code == ExportErrorCode.RunAlreadyActive) { outcomes.Add("refused"); }
        });
        Assert.Equal(1, outcomes.Count(o => o == "created"));
        Assert.Equal(19, outcomes.Count(o => o == "refused"));
    }

    protected void Starts_no_more_runs_of_a_tenant_than_its_limit_across_connections()
    {
        var runs = Enumerable.Range(0, 6).Select(i =>
        {
            Catalog.AddExport(new ExportDefinition { Name = $"t{i}", Query = "*", Tenant = "soc", CreatedAt = Noon });
            return Catalog.CreateRun($"t{i}", "soc", RunTrigger.Manual, "h", "a").Id;
        }).ToList();
        var started = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(runs, id => { if (Another().TryStartRun(id, "h", 2, Noon) == RunStatus.Running) started.Add(id); });
        Assert.Equal(2, started.Count);
        Assert.Equal(4, Catalog.ActiveRuns().Count(r => r.Status == RunStatus.Queued));
        Catalog.FinishRun(started.First(), new RunOutcome(RunStatus.Completed, 0, 0, 0, 0, null, null, null, []), Noon);
        Assert.Equal(1, runs.Count(id => Catalog.TryStartRun(id, "h", 2, Noon) == RunStatus.Running && !started.Contains(id)));
    }

    protected void Tracks_a_run_through_its_lifecycle_and_fails_stale_ones()
    {
        Catalog.AddExport(new ExportDefinition { Name = "life", Query = "*", CreatedAt = Noon });
        var run = Catalog.CreateRun("life", "default", RunTrigger.Schedule, "host-a", "me@host-a");
        Assert.Equal(RunStatus.Running, Catalog.TryStartRun(run.Id, "host-a", 1, Noon));
        Assert.False(Catalog.Heartbeat(run.Id, 10, 100, Noon.AddSeconds(1)));
        Assert.True(Catalog.RequestCancel(run.Id, Noon));
        Assert.True(Catalog.Heartbeat(run.Id, 20, 100, Noon.AddSeconds(2)));   // cancellation is seen by the executor
        Assert.Equal(run.Id, Catalog.FailStaleRuns(Noon.AddMinutes(1), Noon.AddMinutes(2), "lease lapsed").Single().Id);
        Assert.Empty(Catalog.FailStaleRuns(Noon.AddMinutes(1), Noon.AddMinutes(2), "lease lapsed"));      // failed once, reported once
        var failed = Catalog.FindRun(run.Id)!;
        Assert.Equal((RunStatus.Failed, "lease lapsed", 20L, RunTrigger.Schedule), (failed.Status, failed.Error, failed.Processed, failed.Trigger));
        Assert.Equal(ExportErrorCode.RunAbandoned, failed.ErrorCode);
        // Its host, back from a pause past the lease, cannot turn the settled run into a completed one.
        Catalog.FinishRun(run.Id, new RunOutcome(RunStatus.Completed, 100, 100, 100, 999, "abc", "/x", null, []), Noon.AddMinutes(3));
        Assert.Equal((RunStatus.Failed, (long?)null), (Catalog.FindRun(run.Id)!.Status, Catalog.FindRun(run.Id)!.Bytes));
        var next = Catalog.CreateRun("life", "default", RunTrigger.Manual, "host-b", "me@host-b");
        Assert.Equal(RunStatus.Running, Catalog.TryStartRun(next.Id, "host-b", 1, Noon));
        Catalog.FinishRun(next.Id, new RunOutcome(RunStatus.Completed, 5, 5, 5, 123, "abc", "/x", null, ["w1"]), Noon.AddSeconds(3));
        var done = Catalog.LatestRun("LIFE")!;
        Assert.Equal((RunStatus.Completed, 5L, 123L, "abc", "w1"), (done.Status, done.Records!.Value, done.Bytes!.Value, done.Sha256, done.Warnings.Single()));
        Assert.Equal(2, Catalog.ListRuns("life", 10).Count);
    }

    protected void Keeps_registrations_schedules_and_the_audit_trail()
    {
        Catalog.SaveRegistration("storage", "Archive", "{\"bucket\":\"b\"}");
        Catalog.SaveRegistration("storage", "archive", "{\"bucket\":\"c\"}");
        Assert.Equal("{\"bucket\":\"c\"}", Catalog.FindRegistration("storage", "ARCHIVE"));
        Assert.Single(Catalog.ListRegistrations("storage"));
        Catalog.AddExport(new ExportDefinition { Name = "sched", Query = "*", CreatedAt = Noon });
        Catalog.SaveSchedule(new ExportSchedule { ExportName = "sched", Kind = ScheduleKind.Cron, Expression = "0 2 * * *", NextDue = Noon });
        Assert.Equal(Noon, Catalog.FindSchedule("SCHED")!.NextDue);
        Catalog.Audit(AuditEvents.ExportCreated, "sched", null, "me@h", "detail", Noon);
        Catalog.Audit(AuditEvents.ExportRerun, "sched", "r1", "me@h", null, Noon.AddSeconds(1));
        var events = Catalog.ListAudit("sched", 10);
        Assert.Equal([AuditEvents.ExportRerun, AuditEvents.ExportCreated], events.Select(e => e.Event));
        Assert.True(events[0].Id > events[1].Id);
    }

    /// <summary>A run failed as stale while its process was paused may wake and try to record a checkpoint, or drop its own:
    /// neither may touch the resume point its retry recorded.</summary>
    protected void Keeps_the_resume_point_of_the_retry_not_of_a_run_settled_meanwhile()
    {
        Catalog.AddExport(new ExportDefinition { Name = "resumed", Query = "*", CreatedAt = Noon });
        var paused = Catalog.CreateRun("resumed", "default", RunTrigger.Schedule, "host-a", "scheduler");
        Assert.Equal(RunStatus.Running, Catalog.TryStartRun(paused.Id, "host-a", 1, Catalog.Now()));
        Assert.True(Catalog.SaveResumePoint("resumed", paused.Id, "{\"cut\":1}"));
        Assert.Single(Another().FailStaleRuns(Catalog.Now().AddMinutes(1), Catalog.Now(), "lease lapsed"));
        var retry = Another().CreateRun("resumed", "default", RunTrigger.Schedule, "host-b", "scheduler");
        Assert.Equal(RunStatus.Running, Another().TryStartRun(retry.Id, "host-b", 1, Catalog.Now()));
        Assert.True(Another().SaveResumePoint("resumed", retry.Id, "{\"cut\":2}"));

        Assert.False(Catalog.SaveResumePoint("resumed", paused.Id, "{\"cut\":3}"));   // the paused run wakes
        Assert.False(Catalog.RemoveResumePoint("resumed", paused.Id));
        Assert.Equal((retry.Id, "{\"cut\":2}"), Catalog.FindResumePoint("RESUMED"));
        Assert.True(Another().RemoveResumePoint("resumed", retry.Id));
        Assert.Null(Catalog.FindResumePoint("resumed"));
    }

    /// <summary>A pause and an edit made from two hosts at once both stand: the edit, read before the pause, does not
    /// resume the schedule, and a resume read before an edit neither undoes it nor sets a tick from the old expression.</summary>
    protected void Keeps_a_pause_and_an_edit_made_concurrently()
    {
        Catalog.AddExport(new ExportDefinition { Name = "edited", Query = "*", CreatedAt = Noon });
        Catalog.SaveSchedule(new ExportSchedule { ExportName = "edited", Kind = ScheduleKind.Cron, Expression = "0 * * * *", NextDue = Noon });
        var readByEditor = Catalog.FindSchedule("edited")!;
        Assert.True(Another().TrySetScheduleEnabled(Catalog.FindSchedule("edited")!, enabled: false, nextDue: null));
        Catalog.SaveSchedule(readByEditor with { Kind = ScheduleKind.Interval, Expression = "00:30:00", NextDue = Noon.AddMinutes(30) });
        var stored = Catalog.FindSchedule("edited")!;
        Assert.Equal((false, "00:30:00", Noon.AddMinutes(30)), (stored.Enabled, stored.Expression, stored.NextDue));

        var readByResumer = stored;
        Another().SaveSchedule(stored with { Kind = ScheduleKind.Cron, Expression = "15 3 * * *", NextDue = Noon.AddHours(15) });
        Assert.False(Catalog.TrySetScheduleEnabled(readByResumer, enabled: true, nextDue: Noon.AddMinutes(31)));
        Assert.Equal((false, "15 3 * * *", Noon.AddHours(15)), (Catalog.FindSchedule("edited")!.Enabled, Catalog.FindSchedule("edited")!.Expression, Catalog.FindSchedule("edited")!.NextDue));
        Assert.True(Catalog.TrySetScheduleEnabled(Catalog.FindSchedule("edited")!, enabled: true, nextDue: Noon.AddHours(15).AddDays(1)));
        Assert.False(Another().TrySetScheduleEnabled(readByResumer with { Expression = "15 3 * * *" }, enabled: true, nextDue: Noon)); // resumed already
        Assert.Equal((true, Noon.AddHours(15).AddDays(1)), (Catalog.FindSchedule("edited")!.Enabled, Catalog.FindSchedule("edited")!.NextDue));
    }

    /// <summary>Upserts from many connections at once (PostgreSQL's delete-then-insert would collide on the key);
    /// a tick claimed from a schedule edited since it was listed is refused; a removal refuses an active run.</summary>
    protected void Saves_concurrently_claims_only_the_current_schedule_and_removes_no_active_run()
    {
        Catalog.AddExport(new ExportDefinition { Name = "busy", Query = "*", CreatedAt = Noon });
        var checkpointing = Catalog.CreateRun("busy", "default", RunTrigger.Manual, "this-host", "me");
        Parallel.For(0, 40, i =>
        {
            var catalog = Another();
            catalog.SaveSchedule(new ExportSchedule { ExportName = "busy", Kind = ScheduleKind.Interval, Expression = "00:05:00", NextDue = Noon.AddMinutes(i) });
            catalog.SaveRegistration("storage", "shared", $"{{\"n\":{i}}}");
            Assert.True(catalog.SaveResumePoint("busy", checkpointing.Id, $"{{\"n\":{i}}}"));
        });
        Assert.Single(Catalog.ListRegistrations("storage"));
        Assert.NotNull(Catalog.FindResumePoint("busy"));
        Catalog.FinishRun(checkpointing.Id, new RunOutcome(RunStatus.Failed, 0, null, null, null, null, null, "interrupted", []), Noon);

        Catalog.SaveSchedule(new ExportSchedule { ExportName = "busy", Kind = ScheduleKind.Cron, Expression = "0 * * * *", NextDue = Noon });
        var listed = Catalog.FindSchedule("busy")!;
        Another().SaveSchedule(listed with { Expression = "0 */2 * * *" }); // edited elsewhere, same next tick
        Assert.False(Catalog.TryClaimTick(listed, listed.NextAfter(Noon)));
        Assert.True(Catalog.TryClaimTick(Catalog.FindSchedule("busy")!, Noon.AddHours(2)));

        // An edit read before a removal cannot bring back a schedule with no export behind it.
        Assert.Equal(ExportErrorCode.ExportNotFound, Assert.Throws<ExportException>(() =>
            Catalog.SaveSchedule(new ExportSchedule { ExportName = "removed-meanwhile", Kind = ScheduleKind.Interval, Expression = "00:05:00", NextDue = Noon })).Code);
        Assert.Null(Catalog.FindSchedule("removed-meanwhile"));

        var run = Another().CreateRun("busy", "default", RunTrigger.Schedule, "other-host", "scheduler");
        Assert.Equal(ExportErrorCode.RunAlreadyActive, Assert.Throws<ExportException>(() => Catalog.RemoveExport("busy")).Code);
        Assert.NotNull(Catalog.FindRun(run.Id));
        Catalog.FinishRun(run.Id, new RunOutcome(RunStatus.Canceled, 0, null, null, null, null, null, null, []), Noon);
        Assert.True(Catalog.RemoveExport("busy"));
    }

    /// <summary>Remove-Export racing a run's creation on another connection: either the removal wins and leaves no
    /// run behind (a run created after it is refused, not orphaned), or the run wins and the removal is refused.</summary>
    protected void Never_leaves_a_run_of_a_removed_export()
    {
        using var together = new Barrier(2);
        for (var i = 0; i < 60; i++)
        {
            var name = $"raced-{i}";
            Catalog.AddExport(new ExportDefinition { Name = name, Query = "*", CreatedAt = Noon });
            var (remover, creator) = (Another(), Another());
            bool removed = false, created = false;
            Parallel.Invoke(
                () =>
                {
                    together.SignalAndWait();
                    if (i % 3 == 0) Thread.Sleep(1); // each side gets a head start in some rounds
                    try { removed = remover.RemoveExport(name); }
                    catch (ExportException ex) when (ex.Code == ExportErrorCode.RunAlreadyActive) { }
                },
                () =>
                {
                    together.SignalAndWait();
                    if (i % 3 == 1) Thread.Sleep(1);
                    try { created = creator.CreateRun(name, "default", RunTrigger.Schedule, "h", "a") is not null; }
                    catch (ExportException ex) when (ex.Code == ExportErrorCode.ExportNotFound) { }
                });
            Assert.True(removed != created, $"{name}: removed={removed}, created={created}");
            Assert.Equal(created, Catalog.FindExport(name) is not null);
            Assert.Equal(created, Catalog.LatestRun(name) is not null);
        }
    }

    /// <summary>Six runs of a tenant finishing together, each asking for 300 of the 1,000 bytes left, from its own
    /// connection: exactly three fit. Reservations count as usage until their run is settled.</summary>
    protected void Reserves_quota_atomically_across_connections()
    {
        var runs = Enumerable.Range(0, 6).Select(i =>
        {
            Catalog.AddExport(new ExportDefinition { Name = $"q{i}", Query = "*", Tenant = "metered", CreatedAt = Noon });
            var id = Catalog.CreateRun($"q{i}", "metered", RunTrigger.Manual, "h", "a").Id;
            Assert.Equal(RunStatus.Running, Catalog.TryStartRun(id, "h", 6, Noon));
            return id;
        }).ToList();
        Catalog.AddExport(new ExportDefinition { Name = "last-month", Query = "*", Tenant = "metered", CreatedAt = Noon });
        var old = Catalog.CreateRun("last-month", "metered", RunTrigger.Manual, "h", "a").Id;
        Catalog.FinishRun(old, new RunOutcome(RunStatus.Completed, 1, 1, 1, 5_000, null, null, null, []), Noon.AddDays(-30));
        var month = Noon.AddDays(-1);

        using var together = new Barrier(runs.Count);
        var granted = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = runs.Count }, id =>
        {
            var catalog = Another();
            together.SignalAndWait();
            if (catalog.TryReserveQuota(id, "metered", 300, 1_000, month).Granted) granted.Add(id);
        });
        Assert.Equal(3, granted.Count);
        Assert.Equal(900, Catalog.TenantUsage("metered", month));
        Assert.Equal((false, 900L), Catalog.TryReserveQuota(runs.First(id => !granted.Contains(id)), "metered", 101, 1_000, month));

        var (completes, fails) = (granted.First(), granted.Skip(1).First());
        Catalog.FinishRun(completes, new RunOutcome(RunStatus.Completed, 1, 1, 1, 290, null, null, null, []), Noon);
        Catalog.FinishRun(fails, new RunOutcome(RunStatus.Failed, 1, 1, null, null, null, null, "commit failed", [], ExportErrorCode.StorageFailed), Noon);
        Assert.Equal(ExportErrorCode.StorageFailed, Catalog.FindRun(fails)!.ErrorCode);
        Assert.Null(Catalog.FindRun(completes)!.ErrorCode);
        Assert.Equal(590, Catalog.TenantUsage("metered", month));   // the completed file's own size; the failed run's room is back
        Assert.True(Catalog.TryReserveQuota(runs.First(id => !granted.Contains(id)), "metered", 410, 1_000, month).Granted);
        Assert.Equal(0, Catalog.TenantUsage("other", month));
    }

    /// <summary>The exactly-once proof: three schedulers with their own connections claim 500 due ticks.</summary>
    protected void Claims_each_schedule_tick_exactly_once_across_schedulers(string backend)
    {
        Catalog.AddExport(new ExportDefinition { Name = "ticks", Query = "*", CreatedAt = Noon });
        Catalog.SaveSchedule(new ExportSchedule { ExportName = "ticks", Kind = ScheduleKind.Interval, Expression = "00:01:00", NextDue = Noon });
        const int Ticks = 500;
        var claims = new System.Collections.Concurrent.ConcurrentBag<(int Scheduler, DateTimeOffset Tick)>();
        using var together = new Barrier(3); // every tick is contested by all three at the same moment
        Task.WaitAll(Enumerable.Range(0, 3).Select(id => Task.Factory.StartNew(() =>
        {
            var catalog = Another();
            for (var tick = 0; tick < Ticks; tick++)
            {
                together.SignalAndWait();
                var asOf = Noon.AddMinutes(tick);
                for (var current = catalog.FindSchedule("ticks")!; current.NextDue <= asOf; current = catalog.FindSchedule("ticks")!)
                    if (catalog.TryClaimTick(current, current.NextAfter(asOf))) claims.Add((id, current.NextDue!.Value));
            }
        }, TaskCreationOptions.LongRunning)).ToArray());
        var claimed = claims.Select(c => c.Tick).OrderBy(t => t).ToList();
        Assert.Equal(Enumerable.Range(0, Ticks).Select(i => Noon.AddMinutes(i)), claimed);   // each tick once: no miss, no duplicate
        ReliabilityReport.Record("scheduling", $"{backend}: {Ticks} ticks claimed by 3 concurrent schedulers: {claimed.Count} claims, 0 duplicates, 0 misses " +
                                               $"(per scheduler {string.Join("/", claims.GroupBy(c => c.Scheduler).OrderBy(g => g.Key).Select(g => g.Count()))})");
    }
}

public sealed class SqliteCatalogTests : CatalogContract
{
    readonly TestHome _home = new();
    protected override SqlCatalog Catalog => _home.Catalog;
    protected override SqlCatalog Another() => new SqliteCatalog(_home.Home.CatalogPath);
    public override void Dispose() => _home.Dispose();

    [Fact] public void Migrates() => Migrates_idempotently_and_concurrently();
    [Fact] public void Exports() => Stores_exports_case_insensitively_and_refuses_duplicates();
    [Fact] public void One_active_run() => Allows_one_active_run_per_export_across_connections();
    [Fact] public void Run_lifecycle() => Tracks_a_run_through_its_lifecycle_and_fails_stale_ones();
    [Fact] public void Tenant_limit() => Starts_no_more_runs_of_a_tenant_than_its_limit_across_connections();
    [Fact] public void Registrations_schedules_audit() => Keeps_registrations_schedules_and_the_audit_trail();
    [Fact] public void Exactly_once_ticks() => Claims_each_schedule_tick_exactly_once_across_schedulers("SQLite");
    [Fact] public void Concurrent_saves_and_guards() => Saves_concurrently_claims_only_the_current_schedule_and_removes_no_active_run();
    [Fact] public void Concurrent_pause_and_edit() => Keeps_a_pause_and_an_edit_made_concurrently();
    [Fact] public void Resume_point_of_the_retry() => Keeps_the_resume_point_of_the_retry_not_of_a_run_settled_meanwhile();
    [Fact] public void Removal_races_run_creation() => Never_leaves_a_run_of_a_removed_export();
    [Fact] public void Quota_reservations() => Reserves_quota_atomically_across_connections();

    /// <summary>What every publishing run reads under its tenant's lock, and Get-ExportAuditEvent -Name, must stay index
    /// searches however long the history grows (it is kept until its export is removed).</summary>
    [Fact]
    public void A_tenants_usage_and_an_exports_audit_trail_are_index_searches_not_scans()
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_home.Home.CatalogPath};Pooling=False");
        db.Open();
        string Plan(string sql)
        {
            using var command = db.CreateCommand();
            command.CommandText = "EXPLAIN QUERY PLAN " + sql;
            foreach (var name in new[] { "@tenant", "@since", "@except", "@key", "@limit" }.Where(sql.Contains))
                command.Parameters.AddWithValue(name, name == "@limit" ? 20 : "x");
            using var reader = command.ExecuteReader();
            var steps = new List<string>();
            while (reader.Read()) steps.Add(reader.GetString(3));
            return string.Join("\n", steps);
        }
        var usage = Plan(SqlCatalog.UsageSql);
        Assert.Contains("SEARCH runs USING INDEX runs_by_tenant (tenant=? AND status=? AND ended_at>?)", usage);
        Assert.DoesNotContain("SCAN runs", usage);
        var audit = Plan(SqlCatalog.AuditOfExportSql);
        Assert.Contains("SEARCH audit USING INDEX audit_by_export_key", audit);
        Assert.DoesNotContain("SCAN audit", audit);
    }

    /// <summary>A catalog written before failure codes (schema 4) opens at the current schema; its failed runs keep their
    /// message and read with no code, and new failures record theirs.</summary>
    [Fact]
    public void Upgrades_a_schema_4_catalog_and_its_failed_runs_read_without_a_code()
    {
        var path = Path.Combine(_home.Home.Root, "old-catalog.db");
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            var statements = new List<string> { "CREATE TABLE schema_version (version INTEGER NOT NULL)" };
            for (var version = 0; version < 4; version++)
            {
                statements.AddRange(CatalogSchema.Migrations[version].Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                statements.Add($"INSERT INTO schema_version (version) VALUES ({version + 1})");
            }
            statements.Add("INSERT INTO runs (id, export_name, export_key, tenant, status, trigger_kind, queued_at, error) " +
                           "VALUES ('r-old', 'legacy', 'legacy', 'default', 'failed', 'manual', '2026-06-01T00:00:00.0000000Z', 'the source was down')");
            foreach (var sql in statements)
            {
                using var command = old.CreateCommand();
                command.CommandText = sql;
                command.ExecuteNonQuery();
            }
        }
        var catalog = new SqliteCatalog(path);
        catalog.Initialize();
        Assert.Equal(CatalogSchema.Migrations.Count, catalog.SchemaVersion());
        var legacy = catalog.FindRun("r-old")!;
        Assert.Equal((RunStatus.Failed, "the source was down", (ExportErrorCode?)null), (legacy.Status, legacy.Error, legacy.ErrorCode));
    }
}

/// <summary>The same contract on PostgreSQL (a fresh database per test class), started by .ci/run.</summary>
public sealed class PostgresCatalogTests : CatalogContract
{
    const string Variable = "EXPORTSPS_TEST_POSTGRES";
    readonly string? _connectionString;
    readonly List<PostgresCatalog> _opened = new();
    PostgresCatalog? _catalog;

    public PostgresCatalogTests()
    {
        var server = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(server)) return;
        var database = "exportsps_" + Guid.NewGuid().ToString("N")[..12];
        using (var admin = new NpgsqlConnection(server))
        {
            admin.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            create.ExecuteNonQuery();
        }
        _connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ToString();
    }

    protected override SqlCatalog Catalog => _catalog ??= Open();
    protected override SqlCatalog Another() => Open();

    PostgresCatalog Open(TimeProvider? localClock = null)
    {
        var catalog = new PostgresCatalog(_connectionString ?? ServiceFactAttribute.Require(Variable), localClock);
        catalog.Initialize();
        lock (_opened) _opened.Add(catalog);
        return catalog;
    }

    public override void Dispose()
    {
        foreach (var catalog in _opened) catalog.Dispose();
        NpgsqlConnection.ClearAllPools();
    }

    [ServiceFact(Variable)] public void Migrates() => Migrates_idempotently_and_concurrently();
    [ServiceFact(Variable)] public void Exports() => Stores_exports_case_insensitively_and_refuses_duplicates();
    [ServiceFact(Variable)] public void One_active_run() => Allows_one_active_run_per_export_across_connections();
    [ServiceFact(Variable)] public void Run_lifecycle() => Tracks_a_run_through_its_lifecycle_and_fails_stale_ones();
    [ServiceFact(Variable)] public void Tenant_limit() => Starts_no_more_runs_of_a_tenant_than_its_limit_across_connections();
    [ServiceFact(Variable)] public void Registrations_schedules_audit() => Keeps_registrations_schedules_and_the_audit_trail();
    [ServiceFact(Variable)] public void Exactly_once_ticks() => Claims_each_schedule_tick_exactly_once_across_schedulers("PostgreSQL");
    [ServiceFact(Variable)] public void Concurrent_saves_and_guards() => Saves_concurrently_claims_only_the_current_schedule_and_removes_no_active_run();
    [ServiceFact(Variable)] public void Concurrent_pause_and_edit() => Keeps_a_pause_and_an_edit_made_concurrently();
    [ServiceFact(Variable)] public void Resume_point_of_the_retry() => Keeps_the_resume_point_of_the_retry_not_of_a_run_settled_meanwhile();
    [ServiceFact(Variable)] public void Removal_races_run_creation() => Never_leaves_a_run_of_a_removed_export();
    [ServiceFact(Variable)] public void Quota_reservations() => Reserves_quota_atomically_across_connections();

    /// <summary>Two hosts whose clocks disagree by 20 minutes share a catalog with a 30 s lease: the one ahead must
    /// not fail the other's live run as stale, nor see a tick due that the server's clock puts in the future.</summary>
    [ServiceFact(Variable)]
    public void Hosts_with_skewed_clocks_go_by_the_servers_clock()
    {
        var (behind, ahead) = (Open(new SkewedClock(TimeSpan.FromMinutes(-10))), Open(new SkewedClock(TimeSpan.FromMinutes(10))));
        foreach (var host in new[] { behind, ahead })   // the server runs on this machine, on its clock
            Assert.InRange((host.Now() - DateTimeOffset.UtcNow).TotalSeconds, -2, 2);

        behind.AddExport(new ExportDefinition { Name = "skewed", Query = "*", CreatedAt = behind.Now() });
        var run = behind.CreateRun("skewed", "default", RunTrigger.Schedule, "behind", "scheduler");
        Assert.Equal(RunStatus.Running, behind.TryStartRun(run.Id, "behind", 1, behind.Now()));
        Assert.False(behind.Heartbeat(run.Id, 1, 10, behind.Now()));
        var lease = TimeSpan.FromSeconds(30);
        Assert.Empty(ahead.FailStaleRuns(ahead.Now() - lease, ahead.Now(), "lease lapsed"));
        Assert.Equal(RunStatus.Running, ahead.FindRun(run.Id)!.Status);

        var schedule = new ExportSchedule { ExportName = "skewed", Kind = ScheduleKind.Interval, Expression = "00:05:00" };
        behind.SaveSchedule(schedule with { NextDue = schedule.NextAfter(behind.Now()) });
        Assert.False(ahead.FindSchedule("skewed")!.NextDue <= ahead.Now());
    }

    /// <summary>A schedule with no export behind it (left by an older version, or restored by hand): the scheduler
    /// drops it and goes on with the other due schedules, instead of claiming it first and failing at every pass.</summary>
    [ServiceFact(Variable)]
    public async Task A_schedule_whose_export_is_gone_is_dropped_and_the_other_schedules_run()
    {
        using var home = new TestHome();
        home.LoadSample(Sample.SampleKind.Events, 5);
        var service = new ExportService(home.Home, Catalog, settings: home.Service.Settings);
        foreach (var name in new[] { "gone", "kept" })
        {
            service.Create(new ExportDefinition { Name = name, Query = "*" });
            service.Schedules.Set(name, ScheduleKind.Interval, "01:00:00", new DateTimeOffset(2026, 6, 19, 11, 0, 0, TimeSpan.Zero));
        }
        using (var connection = new NpgsqlConnection(_connectionString))
        {
            connection.Open();
            using var orphan = new NpgsqlCommand("DELETE FROM exports WHERE name_key = 'gone'", connection);
            Assert.Equal(1, orphan.ExecuteNonQuery());
        }
        var starts = service.Schedules.StartDue(new DateTimeOffset(2026, 6, 19, 12, 0, 0, TimeSpan.Zero)).ToList();
        Assert.Equal(2, starts.Count);
        Assert.Contains("schedule was removed", starts.Single(s => s.Schedule.ExportName == "gone").Skipped);
        Assert.Equal(RunStatus.Completed, (await starts.Single(s => s.Schedule.ExportName == "kept").Run!.Completion).Status);
        Assert.Null(Catalog.FindSchedule("gone"));
    }

    sealed class SkewedClock(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }
}
