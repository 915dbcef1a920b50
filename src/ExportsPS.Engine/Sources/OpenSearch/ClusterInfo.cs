using System.Text.Json;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Sources.OpenSearch;

/// <summary>What the cluster's root endpoint says about itself, and what that means for reading.</summary>
public sealed record ClusterInfo(string Distribution, Version Version, string VersionText, string ClusterName)
{
    public bool IsOpenSearch => Distribution == "opensearch";

    /// <summary>Point-in-time search (<c>POST /&lt;index&gt;/_search/point_in_time</c>) arrived in OpenSearch 2.4.</summary>
    public bool SupportsPointInTime => IsOpenSearch && Version >= new Version(2, 4);

    /// <summary>The <c>_shard_doc</c> tiebreaker sort arrived in OpenSearch 3.3.</summary>
    public bool SupportsShardDoc => IsOpenSearch && Version >= new Version(3, 3);

    internal static ClusterInfo Parse(ReadOnlySpan<byte> body, string sourceName)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            var version = root.GetProperty("version");
            var number = version.GetProperty("number").GetString() ?? "0";
            var distribution = version.TryGetProperty("distribution", out var d) ? d.GetString() ?? "opensearch" : "elasticsearch";
            var clusterName = root.TryGetProperty("cluster_name", out var c) ? c.GetString() ?? "" : "";
            var numeric = number.Split('-', '+')[0];
            return new ClusterInfo(distribution, Version.TryParse(numeric, out var parsed) ? parsed : new Version(0, 0), number, clusterName);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ExportException(ExportErrorCode.SourceFailed,
                $"Source '{sourceName}' does not answer like an OpenSearch node (its root endpoint has no version). Check the URL and port.", sourceName, ex);
        }
    }
}

/// <summary>What <c>Test-ExportSource</c> reports: the cluster, how an export will read it, and the fields asked for.</summary>
public sealed record SourceProbe
{
    public required string Name { get; init; }
    public required string Url { get; init; }
    public required string Distribution { get; init; }
    public required string Version { get; init; }
    public required string ClusterName { get; init; }
    public required bool SupportsPointInTime { get; init; }
    public required bool SupportsShardDoc { get; init; }
    public required string ReadMode { get; init; }
    public required string SortKey { get; init; }
    public string? Index { get; init; }
    public string? ResolvedIndex { get; init; }
    public bool? IndexExists { get; init; }
    public long? MaxResultWindow { get; init; }
    public long? DocumentCount { get; init; }
    /// <summary>The requested fields with patterns expanded to concrete fields.</summary>
    public IReadOnlyList<string> Fields { get; init; } = Array.Empty<string>();
    public TimeSpan Latency { get; init; }
}
