using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;

namespace ExportsPS.Internal;

/// <summary>The cmdlets' single way into the engine. Internal so PowerShell's type scan never touches an
/// engine type before the module's load context is in place.</summary>
internal static class EngineAccess
{
    /// <summary>The engine for this data folder. <paramref name="recover"/> also fails runs whose process died and
    /// removes their temp files when a sweep is due: false under -WhatIf, which must change nothing, and in tab completion.</summary>
    public static ExportService Service(bool recover)
    {
        var service = ExportService.Open(ExportsHome.Resolve());
        if (recover) service.RecoverIfDue();
        return service;
    }

    public static ExportInfo ToInfo(ExportDefinition export, RunRecord? latest, string? location, Engine.Scheduling.ExportSchedule? schedule = null) => new()
    {
        Name = export.Name,
        Query = export.Query,
        Index = export.Index,
        Format = export.Format,
        Field = export.Fields.ToArray(),
        From = export.From,
        To = export.To,
        TimestampField = export.TimestampField,
        Compression = export.Compression.ToString().ToLowerInvariant(),
        Source = export.Source,
        Slices = export.Slices,
        Storage = export.Storage,
        Tenant = export.Tenant,
        RecordCap = export.RecordCap,
        TimeLimit = export.TimeLimit,
        Since = export.SinceLastRun ? "LastRun" : null,
        DownloadWindow = export.DownloadWindow ?? TimeSpan.Zero,
        AllowCsvFormulas = !export.NeutralizeCsvFormulas,
        Distribution = export.FormatOptions.TryGetValue(Engine.Formats.Misp.MispDistribution.OptionName, out var distribution) ? distribution : null,
        StixRecordCap = export.FormatOptions.TryGetValue(Engine.Formats.Stix.StixFormat.MaxRecordsOption, out var cap)
            && long.TryParse(cap, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var records) ? records : null,
        KeyFingerprint = export.KeyFingerprint,
        CreatedAt = export.CreatedAt,
        CreatedBy = export.CreatedBy,
        LastRunStatus = latest is null ? null : (ExportRunStatus)(int)latest.Status,
        LastRunAt = latest?.EndedAt ?? latest?.StartedAt ?? latest?.QueuedAt,
        LastRunRecords = latest?.Records,
        Location = location,
        Schedule = schedule?.Summary,
        NextRun = schedule is { Enabled: true } ? schedule.NextDue : null,
    };

    public static ExportInfo ToInfo(ExportService service, ExportDefinition export)
    {
        var latest = service.Catalog.LatestRun(export.Name);
        var lastCompleted = latest?.Status == RunStatus.Completed ? latest.Location : null;
        return ToInfo(export, latest, lastCompleted, service.Catalog.FindSchedule(export.Name));
    }

    public static ExportQuotaInfo QuotaOf(ExportService service, string tenant)
    {
        var policy = Engine.Tenants.TenantPolicy.Load(service.Catalog, tenant);
        var month = Engine.Tenants.TenantPolicy.MonthStart(service.Catalog.Now());
        var active = service.Catalog.ActiveRuns().Where(r => string.Equals(r.Tenant, tenant, StringComparison.Ordinal)).ToList();
        return new ExportQuotaInfo
        {
            Tenant = tenant,
            UsedBytes = service.Catalog.TenantUsage(tenant, month),
            QuotaBytes = policy.MonthlyQuotaBytes,
            ResetsAt = month.AddMonths(1),
            ConcurrencyLimit = policy.ConcurrencyLimit,
            Running = active.Count(r => r.Status == RunStatus.Running),
            Queued = active.Count(r => r.Status == RunStatus.Queued),
        };
    }

    public static ExportScheduleInfo ToScheduleInfo(Engine.Scheduling.ExportSchedule schedule, DateTimeOffset asOf) => new()
    {
        Name = schedule.ExportName,
        Schedule = schedule.Summary,
        Kind = schedule.Kind.ToString(),
        Expression = schedule.Expression,
        Enabled = schedule.Enabled,
        NextRun = schedule.Enabled ? schedule.NextDue : null, // paused: no run is coming (as Get-Export shows it)
        LastRun = schedule.LastDue,
        Due = schedule.Enabled && schedule.NextDue is { } due && due <= asOf,
    };

    public static ExportRunInfo ToRunInfo(RunRecord run, RunHandle? live = null) => new()
    {
        Name = run.ExportName,
        RunId = run.Id,
        Status = (ExportRunStatus)(int)run.Status,
        Trigger = run.Trigger.ToString(),
        Processed = live?.Processed ?? run.Processed,
        Total = live?.Total ?? run.Total,
        Records = run.Records,
        Bytes = run.Bytes,
        Sha256 = run.Sha256,
        Location = run.Location,
        QueuedAt = run.QueuedAt,
        StartedAt = run.StartedAt,
        EndedAt = run.EndedAt,
        Duration = run.Duration,
        Host = run.Host,
        Actor = run.Actor,
        Error = run.Error,
        ErrorCode = run.ErrorCode?.ToString(),
        Warnings = run.Warnings.ToArray(),
        KeptRecords = run.Status is RunStatus.Failed or RunStatus.Canceled ? Service(recover: false).KeptRecords(run) : null,
    };
}
