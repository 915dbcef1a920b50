using System.Text.Json;
using System.Text.Json.Serialization;

namespace ExportsPS.Engine.Storage;

/// <summary>What a complete artifact contains, stored beside it: a consumer verifies the file against
/// it, and it says which run and definition produced it.</summary>
public sealed record ArtifactManifest
{
    public required string ExportName { get; init; }
    public required string RunId { get; init; }
    public required string FileName { get; init; }
    public required string Format { get; init; }
    public required string Compression { get; init; }
    public required long Records { get; init; }
    public required long Bytes { get; init; }
    public required string Sha256 { get; init; }
    public required string Query { get; init; }
    public required string Index { get; init; }
    public IReadOnlyList<string> Fields { get; init; } = Array.Empty<string>();
    public string? From { get; init; }
    public string? To { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>After this instant the artifact is no longer served (the download window); null for none.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    public string ContentType { get; init; } = "application/octet-stream";
    /// <summary>For an incremental export: the upper bound of the time range this file covers; the next run
    /// starts just after it.</summary>
    public DateTimeOffset? HighWaterMark { get; init; }
    /// <summary>"sse-c" (S3 customer key) or null. The key itself is never stored, only its fingerprint.</summary>
    public string? Encryption { get; init; }
    /// <summary>Base64 MD5 of the customer key (the SSE-C key MD5), to tell a wrong key from a damaged file.</summary>
    public string? KeyFingerprint { get; init; }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Reads the manifest stored for <paramref name="exportName"/>. Whoever can write to the storage can
    /// write a manifest, and its file name becomes a path on the reader's machine (Receive-ExportFile into a folder):
    /// one that names another export or is not a plain "&lt;export&gt;.&lt;extension&gt;" file name is refused as damage.</summary>
    public static ArtifactManifest FromJson(ReadOnlySpan<byte> json, string exportName)
    {
        var manifest = JsonSerializer.Deserialize<ArtifactManifest>(json, JsonOptions)
                       ?? throw new JsonException("the manifest is empty");
        if (!string.Equals(manifest.ExportName, exportName, StringComparison.OrdinalIgnoreCase))
            throw new JsonException($"the manifest is export '{manifest.ExportName}'s, not '{exportName}'s");
        var fileName = manifest.FileName;
        if (!fileName.StartsWith(exportName + ".", StringComparison.OrdinalIgnoreCase) || fileName.Contains("..", StringComparison.Ordinal)
            || !fileName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            throw new JsonException($"the manifest names the file '{fileName}', which is not a file name this export writes");
        return manifest;
    }
}
