using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Runs;

public enum RunStatus { Queued, Running, Completed, Failed, Canceled }

public enum RunTrigger { Create, Manual, Schedule, Resume }

/// <summary>One execution of an export, as the catalog knows it.</summary>
public sealed record RunRecord
{
    public required string Id { get; init; }
    public required string ExportName { get; init; }
    public string Tenant { get; init; } = "default";
    public RunStatus Status { get; init; }
    public RunTrigger Trigger { get; init; }
    public DateTimeOffset QueuedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public DateTimeOffset? HeartbeatAt { get; init; }
    public string Host { get; init; } = "";
    public string Actor { get; init; } = "";
    public long Processed { get; init; }
    public long? Total { get; init; }
    public long? Records { get; init; }
    public long? Bytes { get; init; }
    public string? Sha256 { get; init; }
    public string? Location { get; init; }
    public string? Error { get; init; }
    /// <summary>Why a failed run failed, as a code scripts can test; null for other runs, and for failures with no
    /// code (an unexpected error) or recorded before codes were (catalog migration 5).</summary>
    public ExportErrorCode? ErrorCode { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
    public bool CancelRequested { get; init; }

    public bool IsSettled => Status is RunStatus.Completed or RunStatus.Failed or RunStatus.Canceled;
    public TimeSpan? Duration => StartedAt is { } s ? (EndedAt ?? DateTimeOffset.UtcNow) - s : null;
}

/// <summary>The outcome fields a finished run records.</summary>
public sealed record RunOutcome(
    RunStatus Status,
    long Processed,
    long? Total,
    long? Records,
    long? Bytes,
    string? Sha256,
    string? Location,
    string? Error,
    IReadOnlyList<string> Warnings,
    ExportErrorCode? ErrorCode = null);
