using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace ExportsPS.Engine.Sources.OpenSearch;

/// <summary>Where a page continues from: a PIT with search_after, or nothing (scroll's first page).</summary>
internal sealed record PageRequest(
    SourceQuery Query,
    int Size,
    IReadOnlyList<string> Includes,
    string SortField,
    string? PitId,
    string KeepAlive,
    bool TrackTotalHits,
    byte[]? SearchAfter,
    int SliceId,
    int SliceCount,
    string? SliceField,
    (string Field, string RawValue)? StartAfter = null);

/// <summary>The JSON bodies the source sends, written with Utf8JsonWriter: the user's query goes into
/// <c>query_string</c> untouched, the time range into a filter so it does not affect scoring or parsing.</summary>
internal static class SearchRequests
{
    public static byte[] Search(PageRequest page)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("size", page.Size);
            json.WritePropertyName("query");
            WriteQuery(json, page.Query, page.StartAfter);
            WriteSourceFilter(json, page.Includes);
            json.WriteStartArray("sort");
            json.WriteStartObject();
            json.WriteString(page.SortField, "asc");
            json.WriteEndObject();
            json.WriteEndArray();
            if (page.PitId is not null)
            {
                json.WriteStartObject("pit");
                json.WriteString("id", page.PitId);
                json.WriteString("keep_alive", page.KeepAlive);
                json.WriteEndObject();
            }
            // Counting every match costs the cluster work: only the first page of each slice asks.
            json.WriteBoolean("track_total_hits", page.TrackTotalHits);
            if (page.SearchAfter is not null)
            {
                json.WritePropertyName("search_after");
                json.WriteRawValue(page.SearchAfter, skipInputValidation: true);
            }
            if (page.SliceCount > 1)
            {
                json.WriteStartObject("slice");
                if (page.SliceField is not null) json.WriteString("field", page.SliceField);
                json.WriteNumber("id", page.SliceId);
                json.WriteNumber("max", page.SliceCount);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] ValidateQuery(SourceQuery query) => Write(json =>
    {
        json.WriteStartObject();
        json.WritePropertyName("query");
        WriteQuery(json, query);
        json.WriteEndObject();
    });

    public static byte[] ScrollNext(string scrollId, string keepAlive) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("scroll", keepAlive);
        json.WriteString("scroll_id", scrollId);
        json.WriteEndObject();
    });

    public static byte[] IdList(string property, IEnumerable<string> ids) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray(property);
        foreach (var id in ids) json.WriteStringValue(id);
        json.WriteEndArray();
        json.WriteEndObject();
    });

    static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer)) write(json);
        return buffer.WrittenSpan.ToArray();
    }

    static void WriteQuery(Utf8JsonWriter json, SourceQuery query, (string Field, string RawValue)? startAfter = null)
    {
        var matchAll = string.IsNullOrWhiteSpace(query.Query) || query.Query.Trim() == "*";
        var ranged = query.From is not null || query.To is not null;
        json.WriteStartObject();
        json.WriteStartObject("bool");
        if (!matchAll)
        {
            json.WriteStartObject("must");
            json.WriteStartObject("query_string");
            json.WriteString("query", query.Query);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        if (ranged || startAfter is not null)
            json.WriteStartArray("filter");
        if (startAfter is { } after)
        {
            json.WriteStartObject();
            json.WriteStartObject("range");
            json.WriteStartObject(after.Field);
            json.WritePropertyName("gt");
            json.WriteRawValue(after.RawValue);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        if (ranged)
        {
            json.WriteStartObject();
            json.WriteStartObject("range");
            json.WriteStartObject(query.TimestampField);
            if (query.From is { } from) json.WriteString("gte", Iso(from));
            if (query.To is { } to) json.WriteString("lt", Iso(to)); // half-open, so consecutive windows never share a document
            json.WriteString("format", "strict_date_optional_time");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        if (ranged || startAfter is not null)
            json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    static void WriteSourceFilter(Utf8JsonWriter json, IReadOnlyList<string> includes)
    {
        if (includes.Count == 0) return;
        json.WriteStartObject("_source");
        json.WriteStartArray("includes");
        foreach (var field in includes) json.WriteStringValue(field);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static string Iso(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
