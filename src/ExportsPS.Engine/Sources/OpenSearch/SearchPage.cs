using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Sources.OpenSearch;

/// <summary>One parsed search response: where each hit's <c>_source</c> lies in the body (no copy), the
/// last hit's sort values (the next <c>search_after</c>), the newest PIT or scroll id and the total.
/// One Utf8JsonReader pass; everything else in the response is skipped.</summary>
internal sealed class SearchPage : IDisposable
{
    readonly ResponseBody _body;
    readonly List<(int Start, int Length)> _sources = new();
    readonly List<(int Start, int Length)> _sorts = new();

    SearchPage(ResponseBody body) => _body = body;

    public int Count => _sources.Count;
    public long? Total { get; private set; }
    public string? PitId { get; private set; }
    public string? ScrollId { get; private set; }
    /// <summary>The last hit's <c>sort</c> array as raw JSON (copied: it outlives the body).</summary>
    public byte[]? LastSort { get; private set; }

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            var (start, length) = _sources[index];
            return _body.Span.Slice(start, length);
        }
    }

    /// <summary>Adds every hit to the slice's batches and publishes them (when full and at the page's end),
    /// each marked with the slice and the sort values of its last hit.</summary>
    public void PublishTo(RecordBatchQueue queue, ref RecordBatch batch, int slice)
    {
        var lastAdded = -1;
        for (var i = 0; i < Count; i++)
        {
            batch.Add(this[i]);
            lastAdded = i;
            if (!batch.IsFull) continue;
            batch.Slice = slice;
            batch.Position = SortAt(i);
            queue.Publish(batch);
            batch = queue.Rent();
            lastAdded = -1;
        }
        if (lastAdded < 0) return;
        // Handed over at the page's end: the writer gets what has arrived, and a checkpoint's cut is never
        // more than one page behind the reader.
        batch.Slice = slice;
        batch.Position = LastSort;
        queue.Publish(batch);
        batch = queue.Rent();
    }

    byte[]? SortAt(int index)
    {
        var (start, length) = _sorts[index];
        return start < 0 ? null : _body.Span.Slice(start, length).ToArray();
    }

    /// <summary>Why some shards did not answer, when every one of them refused for a full search queue
    /// (<c>*rejected_execution_exception</c>): overload, so the same page can be asked for again.</summary>
    public string? Rejected { get; private set; }

    /// <summary>Takes ownership of <paramref name="body"/>. Throws when the cluster reports shard failures
    /// or a timeout: a partial page would silently lose records. With <paramref name="allowRejections"/> (a page that
    /// can be asked for again), one whose only failures are rejections is returned with <see cref="Rejected"/> set.
    /// A page that fails may still have opened a scroll: its id goes to <paramref name="failedPageScrollId"/>, so it can be cleared.</summary>
    public static SearchPage Parse(ResponseBody body, string sourceName, bool allowRejections = false, Action<string>? failedPageScrollId = null)
    {
        var page = new SearchPage(body);
        try
        {
            page.Read(sourceName);
            if (page.Rejected is { } reason && !allowRejections)
                throw new ExportException(ExportErrorCode.SourceFailed,
                    $"Shards of source '{sourceName}' refused a page ({reason}) that cannot be asked for again; the page is incomplete, so the run stops rather than miss records. " +
                    "The cluster is overloaded: try again later or lower -Slices.", sourceName);
            return page;
        }
        catch (JsonException ex)
        {
            ReportScrollId(body, failedPageScrollId);
            page.Dispose();
            throw new ExportException(ExportErrorCode.SourceFailed,
                $"Source '{sourceName}' sent a search response that is not valid JSON ({ex.Message}); is the URL an OpenSearch node?", sourceName, ex);
        }
        catch
        {
            ReportScrollId(body, failedPageScrollId);
            page.Dispose();
            throw;
        }
    }

    /// <summary>Finds the top-level _scroll_id of a response that failed (only then: it reads the whole body again).</summary>
    static void ReportScrollId(ResponseBody body, Action<string>? report)
    {
        if (report is null) return;
        try
        {
            var reader = new Utf8JsonReader(body.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isScrollId = reader.ValueTextEquals("_scroll_id");
                reader.Read();
                if (isScrollId && reader.TokenType == JsonTokenType.String) { report(reader.GetString()!); return; }
                reader.Skip();
            }
        }
        catch (JsonException) { } // cut short before any _scroll_id: nothing to clear
    }

    void Read(string sourceName)
    {
        var span = _body.Span;
        var reader = new Utf8JsonReader(span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("the response is not an object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("pit_id")) { reader.Read(); PitId = reader.GetString(); }
            else if (reader.ValueTextEquals("_scroll_id")) { reader.Read(); ScrollId = reader.GetString(); }
            else if (reader.ValueTextEquals("timed_out"))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.True)
                    throw new ExportException(ExportErrorCode.SourceFailed,
                        $"Source '{sourceName}' timed out answering a page and returned partial results, which would lose records. Raise -TimeoutSec or lower -PageSize.", sourceName);
            }
            else if (reader.ValueTextEquals("_shards")) { reader.Read(); Rejected = ReadShards(ref reader, span, sourceName); }
            else if (reader.ValueTextEquals("hits")) { reader.Read(); ReadHits(ref reader, span, sourceName); }
            else { reader.Read(); reader.Skip(); }
        }
    }

    /// <summary>Null when every shard answered; the reason when all that failed were rejected; throws otherwise.</summary>
    static string? ReadShards(ref Utf8JsonReader reader, ReadOnlySpan<byte> span, string sourceName)
    {
        var start = (int)reader.TokenStartIndex;
        var failed = 0L;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("failed")) { reader.Read(); failed = reader.GetInt64(); }
            else { reader.Read(); reader.Skip(); }
        }
        if (failed == 0) return null;
        using var shards = JsonDocument.Parse(span[start..(int)reader.BytesConsumed].ToArray());
        var reason = shards.RootElement.TryGetProperty("failures", out var failures) && failures.GetArrayLength() > 0
                     && failures[0].TryGetProperty("reason", out var r)
            ? (r.ValueKind == JsonValueKind.Object && r.TryGetProperty("reason", out var inner) ? inner.GetString() : r.ToString())
            : "no reason given";
        if (failures.ValueKind == JsonValueKind.Array && failures.GetArrayLength() > 0 && failures.EnumerateArray().All(f =>
                f.TryGetProperty("reason", out var why) && why.ValueKind == JsonValueKind.Object && why.TryGetProperty("type", out var type)
                && type.GetString() is { } name && name.EndsWith("rejected_execution_exception", StringComparison.Ordinal)))
            return $"{failed} shard(s): {reason}";
        throw new ExportException(ExportErrorCode.SourceFailed,
            $"{failed} shard(s) of source '{sourceName}' failed to answer ({reason}); the page is incomplete, so the run stops rather than miss records.", sourceName);
    }

    void ReadHits(ref Utf8JsonReader reader, ReadOnlySpan<byte> span, string sourceName)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("total"))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number) { Total = reader.GetInt64(); continue; } // Elasticsearch 6 style
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                long value = 0;
                var exact = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("value")) { reader.Read(); value = reader.GetInt64(); }
                    else if (reader.ValueTextEquals("relation")) { reader.Read(); exact = reader.ValueTextEquals("eq"); }
                    else { reader.Read(); reader.Skip(); }
                }
                Total = exact ? value : null;
            }
            else if (reader.ValueTextEquals("hits"))
            {
                reader.Read();
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) ReadHit(ref reader, span, sourceName);
                if (Count > 0) LastSort = SortAt(Count - 1);
            }
            else { reader.Read(); reader.Skip(); }
        }
    }

    void ReadHit(ref Utf8JsonReader reader, ReadOnlySpan<byte> span, string sourceName)
    {
        (int, int) source = (-1, 0);
        (int, int) sort = (-1, 0);
        (int, int) index = (-1, 0); // decoded only for the error below: no string per hit
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("_index"))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) index = ((int)reader.TokenStartIndex, (int)reader.BytesConsumed - (int)reader.TokenStartIndex);
            }
            else if (reader.ValueTextEquals("_source"))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                source = (start, (int)reader.BytesConsumed - start);
            }
            else if (reader.ValueTextEquals("sort"))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                sort = (start, (int)reader.BytesConsumed - start);
            }
            else { reader.Read(); reader.Skip(); }
        }
        // Every request asks for _source (a filtered one is {}, never absent): a hit without one comes from an
        // index that does not keep it, and exporting it as {} would lose the document while the counts still add up.
        if (source.Item1 < 0)
        {
            var name = index.Item1 < 0 ? null : JsonSerializer.Deserialize<string>(span.Slice(index.Item1, index.Item2));
            throw new ExportException(ExportErrorCode.SourceFailed,
                $"Source '{sourceName}' returned a document of index '{name ?? "(unnamed)"}' without its _source: that index's mapping " +
                "disables _source, so its documents cannot be exported. Export from an index that keeps _source (e.g. reindex into one).", name ?? sourceName);
        }
        _sources.Add(source);
        _sorts.Add(sort);
    }

    public void Dispose() => _body.Dispose();

    public override string ToString() => $"{Count} hits, total {Total}, last sort {(LastSort is null ? "-" : Encoding.UTF8.GetString(LastSort))}";
}
