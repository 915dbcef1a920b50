namespace ExportsPS.Engine.Exports;

/// <summary>Everything needed to produce one export's file. Stored in the catalog as JSON, so new
/// optional properties are backward compatible by construction.</summary>
public sealed record ExportDefinition
{
    public required string Name { get; init; }
    public required string Query { get; init; }
    public string Index { get; init; } = "events";
    public string Format { get; init; } = "jsonl";
    /// <summary>Explicit field list (dotted paths); empty means every field.</summary>
    public IReadOnlyList<string> Fields { get; init; } = Array.Empty<string>();
    /// <summary>Lower bound, absolute or date math (<c>now-1d/d</c>); resolved when a run starts.</summary>
    public string? From { get; init; }
    public string? To { get; init; }
    public string TimestampField { get; init; } = "@timestamp";
    public CompressionKind Compression { get; init; } = CompressionKind.None;
    public string Source { get; init; } = SourceNames.Embedded;
    public string Storage { get; init; } = StorageNames.Local;
    public string Tenant { get; init; } = "default";
    /// <summary>Prefix CSV cells that start with = + - @ (and tab/CR) so spreadsheets do not run them.</summary>
    public bool NeutralizeCsvFormulas { get; init; } = true;
    public long RecordCap { get; init; } = DefaultRecordCap;
    public TimeSpan? TimeLimit { get; init; }
    /// <summary>The longest -TimeLimit: a run's timer takes at most about 49 days.</summary>
    public static readonly TimeSpan LongestTimeLimit = TimeSpan.FromDays(30);
    /// <summary>Encrypted with a customer key (SSE-C) that the caller holds; only its fingerprint is kept here.</summary>
    public string? KeyFingerprint { get; init; }
    /// <summary>How long after a run its file may be downloaded; null for no limit.</summary>
    public TimeSpan? DownloadWindow { get; init; }
    /// <summary>The window is the default of an unscheduled export (nobody chose it): scheduling the export
    /// lifts it, because a scheduled export's file must stay until the next run replaces it.</summary>
    public bool DownloadWindowIsDefault { get; init; }
    /// <summary>Incremental: each run reads only documents newer than the previous complete run's high-water
    /// mark (the upper bound of its time range), so a schedule ships each document once.</summary>
    public bool SinceLastRun { get; init; }
    /// <summary>Parallel reads of one result (OpenSearch sliced PIT or scroll), all into the same file.</summary>
    public int Slices { get; init; } = 1;
    /// <summary>Format-specific settings (e.g. MISP distribution); validated by the format.</summary>
    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = new Dictionary<string, string>();
    public DateTimeOffset CreatedAt { get; init; }
    public string CreatedBy { get; init; } = "";

    public const long DefaultRecordCap = 100_000_000;
}

public enum CompressionKind { None, Gzip }

public static class SourceNames
{
    public const string Embedded = "embedded";
}

public static class StorageNames
{
    public const string Local = "local";
}
