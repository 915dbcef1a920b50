using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Runs;

/// <summary>Where an interrupted run can be continued: its partial file is durable up to <see cref="Bytes"/>,
/// which hold exactly <see cref="Records"/> records, and each slice's last written record sorts at
/// <see cref="Positions"/>[slice] (raw JSON of the source's sort values; null for a slice that wrote nothing).
/// The time range is the one the interrupted run resolved, so date math such as now-1d does not move.</summary>
public sealed record ResumePoint
{
    public required string RunId { get; init; }
    public required string DefinitionHash { get; init; }
    public required string FileName { get; init; }
    public required long Bytes { get; init; }
    public required long Records { get; init; }
    public required string?[] Positions { get; init; }
    /// <summary>What the positions are values of (the source's sort key), so a changed source is noticed.</summary>
    public string PositionKey { get; init; } = "";
    /// <summary>What the store needs to continue the file (S3: the upload and its part count).</summary>
    public string? StoreState { get; init; }
    /// <summary>The columns the file's header names (csv), reused by the resume.</summary>
    public IReadOnlyList<string>? Columns { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public DateTimeOffset? HighWaterMark { get; init; }
    public DateTimeOffset At { get; init; }

    static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ResumePoint FromJson(string json) =>
        JsonSerializer.Deserialize<ResumePoint>(json, Json) ?? throw new JsonException("empty resume point");

    /// <summary>A digest of everything in the definition that shapes the file's bytes: a resume is refused
    /// when it changed, since the continued file would mix two definitions.</summary>
    public static string HashOf(ExportDefinition export)
    {
        var shape = new
        {
            export.Source, export.Index, export.Query, export.Fields, export.TimestampField, export.From, export.To,
            export.Format, Compression = export.Compression.ToString(), export.Storage, export.NeutralizeCsvFormulas,
            export.Slices, export.SinceLastRun, export.KeyFingerprint,
            FormatOptions = export.FormatOptions.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value}").ToArray(),
        };
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(shape))))[..16].ToLowerInvariant();
    }
}
