namespace ExportsPS;

/// <summary>Run states as users see and compare them (<c>$run.Status -eq 'Completed'</c>).</summary>
public enum ExportRunStatus { Queued, Running, Completed, Failed, Canceled }

/// <summary>An export definition with its latest run, as Get-Export and New-Export -NoRun return it.
/// <c>Name</c> binds to <c>-Name</c> of the other cmdlets, so <c>Get-Export | Start-Export</c> works.</summary>
public sealed class ExportInfo
{
    public string Name { get; init; } = "";
    public string Query { get; init; } = "";
    public string Index { get; init; } = "";
    public string Format { get; init; } = "";
    public string[] Field { get; init; } = [];
    public string? From { get; init; }
    public string? To { get; init; }
    public string TimestampField { get; init; } = "";
    public string Compression { get; init; } = "";
    public string Source { get; init; } = "";
    public int Slices { get; init; } = 1;
    public string Storage { get; init; } = "";
    public string Tenant { get; init; } = "";
    public long RecordCap { get; init; }
    public TimeSpan? TimeLimit { get; init; }
    /// <summary>"LastRun" when each run exports only what arrived since the last completed one.</summary>
    public string? Since { get; init; }
    /// <summary>How long a one-off run's file stays downloadable; zero: it never expires (as -DownloadWindow 0 says).</summary>
    public TimeSpan DownloadWindow { get; init; }
    public bool AllowCsvFormulas { get; init; }
    /// <summary>misp: the events' distribution level (null for other formats).</summary>
    public string? Distribution { get; init; }
    /// <summary>stix: the record cap when one was given (null: the default 10,000, or another format).</summary>
    public long? StixRecordCap { get; init; }
    /// <summary>The fingerprint of the key an encrypted export's files are encrypted with; null when not encrypted.</summary>
    public string? KeyFingerprint { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string CreatedBy { get; init; } = "";
    public ExportRunStatus? LastRunStatus { get; init; }
    public DateTimeOffset? LastRunAt { get; init; }
    public long? LastRunRecords { get; init; }
    public string? Location { get; init; }
    /// <summary>"Daily · 02:00", "Every 1h", "Paused · …", or empty when the export has no schedule.</summary>
    public string? Schedule { get; init; }
    public DateTimeOffset? NextRun { get; init; }

    public override string ToString() => Name;
}

/// <summary>An export's schedule, as Get-ExportSchedule and Set-ExportSchedule return it.</summary>
public sealed class ExportScheduleInfo
{
    public string Name { get; init; } = "";
    public string Schedule { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Expression { get; init; } = "";
    public bool Enabled { get; init; }
    public DateTimeOffset? NextRun { get; init; }
    public DateTimeOffset? LastRun { get; init; }
    /// <summary>Whether the export is due at the time asked about (Get-ExportSchedule -AsOf).</summary>
    public bool Due { get; init; }
}

/// <summary>One run of an export. <c>Name</c> is the export's name (so runs pipe into Receive-ExportFile).</summary>
public sealed class ExportRunInfo
{
    public string Name { get; init; } = "";
    public string RunId { get; init; } = "";
    public ExportRunStatus Status { get; init; }
    public string Trigger { get; init; } = "";
    public long Processed { get; init; }
    public long? Total { get; init; }
    public int? PercentComplete => Total is > 0 ? (int)Math.Min(100, Processed * 100 / Total.Value) : Status == ExportRunStatus.Completed ? 100 : null;
    public long? Records { get; init; }
    public long? Bytes { get; init; }
    public string? Sha256 { get; init; }
    public string? Location { get; init; }
    public DateTimeOffset QueuedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public TimeSpan? Duration { get; init; }
    public string Host { get; init; } = "";
    public string Actor { get; init; } = "";
    public string? Error { get; init; }
    /// <summary>Why a failed run failed, as a stable code (QuotaExceeded, TimeLimitExceeded, SourceFailed, RunAbandoned…),
    /// the same names as the FullyQualifiedErrorIds of the commands that fail for that reason; null when unknown.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>Records an interrupted run kept for <c>Start-Export -Resume</c>; empty when it cannot be resumed.</summary>
    public long? KeptRecords { get; init; }
    public string[] Warnings { get; init; } = [];

    public override string ToString() => $"{Name} {RunId} {Status}";
}

public sealed class ExportImportResult
{
    public string Index { get; init; } = "";
    public long Documents { get; init; }
    public long MalformedValues { get; init; }
    public long TotalDocuments { get; init; }
    public TimeSpan Duration { get; init; }
    public double DocumentsPerSecond => Duration.TotalSeconds > 0 ? Math.Round(Documents / Duration.TotalSeconds) : Documents;
}

public sealed class ExportIndexInfo
{
    public string Name { get; init; } = "";
    public long Documents { get; init; }
    public string[] Fields { get; init; } = [];
    /// <summary>Field → type (text, keyword, date, long, double, boolean), in first-seen order.</summary>
    public System.Collections.Specialized.OrderedDictionary Mapping { get; init; } = new();
    public string[] DefaultColumns { get; init; } = [];
    public string Path { get; init; } = "";
}

public sealed class ExportAuditEntry
{
    public long Id { get; init; }
    public DateTimeOffset Time { get; init; }
    public string Event { get; init; } = "";
    public string Name { get; init; } = "";
    public string? RunId { get; init; }
    public string Actor { get; init; } = "";
    public string? Detail { get; init; }
}

/// <summary>A tenant's governance and this month's use, as Get-ExportQuota and Set-ExportTenant return it.</summary>
public sealed class ExportQuotaInfo
{
    public string Tenant { get; init; } = "";
    public long UsedBytes { get; init; }
    public long QuotaBytes { get; init; }
    public long RemainingBytes => Math.Max(0, QuotaBytes - UsedBytes);
    public double PercentUsed => QuotaBytes > 0 ? Math.Round(UsedBytes * 100.0 / QuotaBytes, 2) : 100;
    public DateTimeOffset ResetsAt { get; init; }
    public int ConcurrencyLimit { get; init; }
    public int Running { get; init; }
    public int Queued { get; init; }
}

/// <summary>A source exports can read from: the built-in embedded index or a registered OpenSearch cluster.
/// Never carries a secret: only which kind of authentication is configured.</summary>
public sealed class ExportSourceInfo
{
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string[] Uri { get; init; } = [];
    public string Authentication { get; init; } = "None";
    public string? UserName { get; init; }
    public string ReadMode { get; init; } = "";
    public int? PageSize { get; init; }
    public string? KeepAlive { get; init; }
    public string? TiebreakerField { get; init; }
    public int? MaxRetries { get; init; }
    public TimeSpan? Timeout { get; init; }
    public string? CertificatePath { get; init; }
    public bool SkipCertificateCheck { get; init; }
    public System.Collections.Hashtable IndexMap { get; init; } = new();
    public string[] UsedBy { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>What Test-ExportSource found: the backend, how exports will read it, the index and the fields.</summary>
public sealed class ExportSourceTestResult
{
    public string Name { get; init; } = "";
    public string Uri { get; init; } = "";
    public string Distribution { get; init; } = "";
    public string Version { get; init; } = "";
    public string ClusterName { get; init; } = "";
    public bool SupportsPointInTime { get; init; }
    public bool SupportsShardDoc { get; init; }
    public string ReadMode { get; init; } = "";
    public string SortKey { get; init; } = "";
    public string? Index { get; init; }
    public string? ResolvedIndex { get; init; }
    public bool? IndexExists { get; init; }
    public long? Documents { get; init; }
    public long? MaxResultWindow { get; init; }
    public string[] Field { get; init; } = [];
    public TimeSpan Latency { get; init; }
}

/// <summary>Where export files can be stored: the local data folder or a registered S3 bucket (no secret shown).</summary>
public sealed class ExportStorageInfo
{
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Location { get; init; } = "";
    public string? Bucket { get; init; }
    public string? Prefix { get; init; }
    public string? Endpoint { get; init; }
    public string? Region { get; init; }
    public string? Credentials { get; init; }
    public int? PartSizeMB { get; init; }
    /// <summary>Whether encrypted exports may send their keys to this storage's http endpoint on another machine.</summary>
    public bool AllowKeysOverHttp { get; init; }
    public string[] UsedBy { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>The key of an encrypted export, returned once by New-Export -Encrypt.</summary>
public sealed class ExportKeyInfo
{
    public string Name { get; init; } = "";
    public System.Security.SecureString? EncryptionKey { get; init; }
    public string Fingerprint { get; init; } = "";
}

/// <summary>A pre-signed download link and the headers the consumer must send with it.</summary>
public sealed class ExportDownloadUrl
{
    public string Name { get; init; } = "";
    public Uri? Url { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    /// <summary>The SSE-C headers (algorithm, key, key MD5) for an encrypted export; empty otherwise.</summary>
    public System.Collections.Hashtable Headers { get; init; } = new();
    public string Sha256 { get; init; } = "";
    public long Bytes { get; init; }

    public override string ToString() => Url?.ToString() ?? "";
}
