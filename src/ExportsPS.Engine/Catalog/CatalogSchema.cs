namespace ExportsPS.Engine.Catalog;

/// <summary>The catalog's schema history, shared by SQLite and PostgreSQL (only portable SQL here).
/// Never edit a released migration: append a new one.</summary>
public static class CatalogSchema
{
    public static readonly IReadOnlyList<string> Migrations =
    [
        // 1: exports, runs, audit, registrations (named sources, storage targets: JSON, secrets encrypted). active_key is set only while a run is queued or running; its unique
        // index is what makes "never two active runs of one export" hold across processes and hosts.
        """
        CREATE TABLE exports (
            name TEXT NOT NULL,
            name_key TEXT NOT NULL PRIMARY KEY,
            tenant TEXT NOT NULL,
            definition TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL);
        CREATE TABLE runs (
            id TEXT NOT NULL PRIMARY KEY,
            export_name TEXT NOT NULL,
            export_key TEXT NOT NULL,
            tenant TEXT NOT NULL,
            status TEXT NOT NULL,
            trigger_kind TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            started_at TEXT,
            ended_at TEXT,
            heartbeat_at TEXT,
            host TEXT,
            actor TEXT,
            processed BIGINT NOT NULL DEFAULT 0,
            total BIGINT,
            records BIGINT,
            bytes BIGINT,
            sha256 TEXT,
            location TEXT,
            error TEXT,
            warnings TEXT NOT NULL DEFAULT '[]',
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            active_key TEXT);
        CREATE UNIQUE INDEX runs_one_active ON runs (active_key);
        CREATE INDEX runs_by_export ON runs (export_key, queued_at);
        CREATE INDEX runs_by_status ON runs (status);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            export_name TEXT NOT NULL,
            run_id TEXT,
            actor TEXT NOT NULL,
            detail TEXT);
        CREATE INDEX audit_by_export ON audit (export_name);
        CREATE TABLE registrations (
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            definition TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (kind, name_key))
        """,
        // 2: schedules. next_due is claimed by compare-and-set (UPDATE … WHERE next_due = @seen), so among
        // any number of schedulers on one catalog exactly one wins each tick, on SQLite and PostgreSQL alike.
        """
        CREATE TABLE schedules (
            name_key TEXT NOT NULL PRIMARY KEY,
            export_name TEXT NOT NULL,
            kind TEXT NOT NULL,
            expression TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            next_due TEXT,
            last_due TEXT,
            updated_at TEXT NOT NULL);
        CREATE INDEX schedules_due ON schedules (enabled, next_due)
        """,
        // 3: resume points. At most one per export: the latest interrupted run's durable position (bytes of
        // its partial file, records, each slice's sort position), which Start-Export -Resume continues.
        """
        CREATE TABLE resume_points (
            export_key TEXT NOT NULL PRIMARY KEY,
            run_id TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL)
        """,
        // 4: quota reservations. A run about to publish sets aside its file's bytes (under the tenant's lock) until it is
        // settled, so two runs of a tenant finishing together cannot both fit in the room left for one.
        "ALTER TABLE runs ADD COLUMN reserved_bytes BIGINT",
        // 5: why a run failed, as a code (ExportErrorCode's name) beside the message, so scripts need not parse the message.
        "ALTER TABLE runs ADD COLUMN error_code TEXT",
        // 6: a tenant's usage (read under the tenant's lock by every run that publishes) and an export's audit trail were
        // found by scanning every run and every event ever recorded; history is kept until its export is removed.
        """
        CREATE INDEX runs_by_tenant ON runs (tenant, status, ended_at);
        DROP INDEX audit_by_export;
        CREATE INDEX audit_by_export_key ON audit (LOWER(export_name))
        """,
    ];
}
