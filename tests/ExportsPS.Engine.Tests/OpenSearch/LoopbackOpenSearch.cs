using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Json;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.Embedded;

namespace ExportsPS.Engine.Tests.OpenSearch;

/// <summary>What the loopback server does to a matching request instead of answering it. A request matches
/// when its path (without the query string) ends with <see cref="Path"/>; the first <see cref="Skip"/>
/// matching requests pass untouched.</summary>
public abstract record Fault(string Path)
{
    public int Skip { get; set; }

    /// <summary>Answers with this status (and the cluster's error shape) instead.</summary>
    public sealed record Status(string Path, int Code, int RetryAfterSeconds = 0) : Fault(Path);
    /// <summary>Sends half of the real response, then resets the connection.</summary>
    public sealed record DropMidBody(string Path) : Fault(Path);
    /// <summary>Sends half of the real response, then sends nothing more for <see cref="For"/> (a node that
    /// froze, a half-open connection) before resetting it.</summary>
    public sealed record StallMidBody(string Path, TimeSpan For) : Fault(Path);
    /// <summary>Answers 200 with the page, but reports one shard failed with an error of <see cref="Type"/>
    /// (es_rejected_execution_exception when its search queue is full), as a cluster under load does.</summary>
    public sealed record FailedShard(string Path, string Type) : Fault(Path);
    /// <summary>Forgets every point in time and scroll (as a keep-alive lapsing does), then answers.</summary>
    public sealed record ExpireContexts(string Path) : Fault(Path);
}

/// <summary>An HTTP server on 127.0.0.1 that speaks the part of OpenSearch's documented REST API an export
/// uses — root info, PIT create/delete, <c>_search</c> with pit/search_after/slice/_source/sort/track_total_hits,
/// scroll and clear-scroll, <c>_field_caps</c>, <c>_validate/query</c>, <c>_count</c>, <c>_settings</c> — answering
/// from an embedded index through the embedded source, so both sources can be compared record for record.
/// Faults are queued and hit the next matching request. Every request is logged for assertions.</summary>
public sealed class LoopbackOpenSearch : IDisposable
{
    readonly HttpListener _listener = new();
    readonly EmbeddedSource _embedded;
    readonly EmbeddedIndexStore _indexes;
    readonly ConcurrentDictionary<string, Context> _contexts = new();
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    int _nextId;

    public LoopbackOpenSearch(EmbeddedIndexStore indexes, string distribution = "opensearch", string version = "3.3.0")
    {
        _indexes = indexes;
        _embedded = new EmbeddedSource(indexes);
        Distribution = distribution;
        Version = version;
        var port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptLoop);
    }

    public Uri Url { get; }
    public string Distribution { get; set; }
    public string Version { get; set; }
    /// <summary>Each search response returns a new pit_id and requests with an outdated one get a 404, as a
    /// cluster that rotated the id would: proves the client always sends the newest.</summary>
    public bool RotatePitIds { get; set; }
    /// <summary>The Authorization header every request must carry (null: none required).</summary>
    public string? RequiredAuthorization { get; set; }
    public ConcurrentQueue<Fault> Faults { get; } = new();
    /// <summary>Added to every search page, to make a run slow enough to cancel midway.</summary>
    public TimeSpan SearchDelay { get; set; }
    public ConcurrentQueue<(string Method, string Path, string Body)> Requests { get; } = new();
    /// <summary>What _settings reports as index.number_of_shards (slicing depends on it).</summary>
    public int Shards { get; set; } = 1;
    public ConcurrentQueue<string?> Authorizations { get; } = new();
    public int OpenContexts => _contexts.Count;
    /// <summary>Hits come without _source, as from an index whose mapping disables it.</summary>
    public bool SourceDisabled { get; set; }

    public IEnumerable<(string Method, string Path, string Body)> RequestsTo(string pathContains) =>
        Requests.Where(r => r.Path.Contains(pathContains, StringComparison.Ordinal));

    static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (HttpListenerException) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    void Handle(HttpListenerContext http)
    {
        var request = http.Request;
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8)) body = reader.ReadToEnd();
        var path = request.Url!.PathAndQuery;
        Requests.Enqueue((request.HttpMethod, path, body));
        Authorizations.Enqueue(request.Headers["Authorization"] + (request.Headers["X-Amz-Date"] is { } date ? " x-amz-date=" + date : ""));
        try
        {
            if (RequiredAuthorization is not null && request.Headers["Authorization"] != RequiredAuthorization)
            {
                Respond(http, 401, Error("security_exception", "missing authentication credentials for REST request"));
                return;
            }
            var apiPath = request.Url!.AbsolutePath;
            if (PathPrefix.Length > 0)
            {
                if (!apiPath.StartsWith(PathPrefix, StringComparison.Ordinal))
                {
                    Respond(http, 404, Error("not_found", $"no cluster under {apiPath}"));
                    return;
                }
                apiPath = apiPath[(PathPrefix.Length - 1)..];
            }
            var fault = TakeFault(path);
            switch (fault)
            {
                case Fault.Status status:
                    if (status.RetryAfterSeconds > 0) http.Response.AddHeader("Retry-After", status.RetryAfterSeconds.ToString());
                    Respond(http, status.Code, Error(status.Code == 429 ? "rejected_execution_exception" : "status_exception", $"injected {status.Code}"));
                    return;
                case Fault.ExpireContexts:
                    _contexts.Clear();
                    break;
            }
            var (code, response) = Route(request.HttpMethod, apiPath, request.QueryString, body);
            if (fault is Fault.FailedShard shard)
                response = response.Replace("\"_shards\":{\"total\":1,\"successful\":1,\"skipped\":0,\"failed\":0}",
                    "\"_shards\":{\"total\":2,\"successful\":1,\"skipped\":0,\"failed\":1,\"failures\":[{\"shard\":1,\"index\":\"events\",\"node\":\"n1\"," +
                    $"\"reason\":{{\"type\":\"{shard.Type}\",\"reason\":\"injected: queue capacity 1000\"}}}}]}}");
            if (fault is Fault.DropMidBody or Fault.StallMidBody)
            {
                var bytes = Encoding.UTF8.GetBytes(response);
                http.Response.StatusCode = code;
                http.Response.ContentType = "application/json";
                http.Response.ContentLength64 = bytes.Length;
                http.Response.OutputStream.Write(bytes, 0, bytes.Length / 2);
                http.Response.OutputStream.Flush();
                if (fault is Fault.StallMidBody stall) _stop.Token.WaitHandle.WaitOne(stall.For);
                http.Response.Abort();
                return;
            }
            Respond(http, code, response);
        }
        catch (ExportException ex) when (ex.Code is ExportErrorCode.UnknownIndex)
        {
            Respond(http, 404, Error("index_not_found_exception", $"no such index [{ex.Target}]"));
        }
        catch (ExportException ex) when (ex.Code is ExportErrorCode.InvalidQuery)
        {
            Respond(http, 400, ParseFailure(ex.Message));
        }
        catch (Exception ex)
        {
            try { Respond(http, 500, Error("exception", ex.ToString())); } catch { /* connection gone */ }
        }
    }

    Fault? TakeFault(string path)
    {
        lock (Faults)
        {
            if (!Faults.TryPeek(out var next) || !path.Split('?')[0].EndsWith(next.Path, StringComparison.Ordinal)) return null;
            if (next.Skip > 0) { next.Skip--; return null; }
            Faults.TryDequeue(out var taken);
            return taken;
        }
    }

    static void Respond(HttpListenerContext http, int code, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json; charset=UTF-8";
        http.Response.ContentLength64 = bytes.Length;
        http.Response.OutputStream.Write(bytes);
        http.Response.Close();
    }

    static string Error(string type, string reason, int? status = null) =>
        new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["root_cause"] = new JsonArray(new JsonObject { ["type"] = type, ["reason"] = reason }),
                ["type"] = type,
                ["reason"] = reason,
            },
            ["status"] = status,
        }.ToJsonString();

    static string ParseFailure(string reason) =>
        new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["root_cause"] = new JsonArray(new JsonObject { ["type"] = "query_shard_exception", ["reason"] = "Failed to parse query: " + reason }),
                ["type"] = "search_phase_execution_exception",
                ["reason"] = "all shards failed",
            },
            ["status"] = 400,
        }.ToJsonString();

    (int, string) Route(string method, string path, System.Collections.Specialized.NameValueCollection query, string body)
    {
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length == 0)
            return (200, new JsonObject
            {
                ["name"] = "loopback", ["cluster_name"] = "exportsps-test",
                ["version"] = Distribution == "opensearch"
                    ? new JsonObject { ["distribution"] = "opensearch", ["number"] = Version }
                    : new JsonObject { ["number"] = Version },
                ["tagline"] = "The OpenSearch Project: https://opensearch.org/",
            }.ToJsonString());
        if (segments is ["_search", "point_in_time"] && method == "DELETE") return DeleteContexts(body, "pit_id", "pits");
        if (segments is ["_search", "scroll"] && method == "DELETE") return DeleteContexts(body, "scroll_id", "scrolls");
        if (segments is ["_search", "scroll"]) return ScrollNext(body);
        if (segments is ["_search"]) return PitSearch(body);
        var index = segments[0];
        _indexes.RequireExisting(index);
        return segments[1..] switch
        {
            ["_search", "point_in_time"] => CreatePit(index, query["allow_partial_pit_creation"] != "false"),
            ["_search"] when query["scroll"] is not null => ScrollStart(index, body),
            ["_field_caps"] => (200, FieldCaps(index)),
            ["_validate", "query"] => (200, ValidateQuery(index, body)),
            ["_count"] => (200, new JsonObject { ["count"] = _indexes.CountDocuments(index) }.ToJsonString()),
            ["_settings"] => (200, new JsonObject
            {
                [index] = new JsonObject
                {
                    // Nested, as OpenSearch answers without flat_settings (the probe's max_result_window reads "defaults" only).
                    ["settings"] = new JsonObject { ["index"] = new JsonObject { ["number_of_shards"] = Shards.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
                    ["defaults"] = new JsonObject { ["index.max_result_window"] = "10000" },
                },
            }.ToJsonString()),
            _ => (400, Error("illegal_argument_exception", $"no handler for {method} {path}")),
        };
    }

    /// <summary>A PIT or scroll: which index it pins and, per (query, includes), the matches in a fixed order.</summary>
    sealed class Context
    {
        public required string Index { get; init; }
        public required string Kind { get; init; }
        public string CurrentId { get; set; } = "";
        public ConcurrentDictionary<string, List<Hit>> Results { get; } = new();
        // Scroll state
        public List<Hit>? ScrollHits { get; set; }
        public int ScrollPosition { get; set; }
        public int ScrollSize { get; set; }
    }

    sealed record Hit(long Position, string Source, string? SortValue);

    /// <summary>Shards that fail while a PIT is created (a primary relocating, its node down). OpenSearch creates the
    /// PIT without them unless asked not to (allow_partial_pit_creation defaults to true), and every search on it
    /// then reports success over the shards it has.</summary>
    public int FailedPitShards { get; set; }
    public bool IgnorePartialPitParameter { get; set; }

    /// <summary>A path the cluster is served under (a gateway's /opensearch/): requests outside it are not found.</summary>
    public string PathPrefix { get; set; } = "";

    (int, string) CreatePit(string index, bool allowPartial)
    {
        if (FailedPitShards > 0 && !allowPartial && !IgnorePartialPitParameter)
            return (500, Error("search_phase_execution_exception", "all shards failed", 500));
        var id = NewId("pit");
        _contexts[id] = new Context { Index = index, Kind = "pit", CurrentId = id };
        return (200, new JsonObject
        {
            ["pit_id"] = id, ["creation_time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["_shards"] = new JsonObject { ["total"] = Shards, ["successful"] = Shards - FailedPitShards, ["skipped"] = 0, ["failed"] = FailedPitShards },
        }.ToJsonString());
    }

    string NewId(string kind) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{kind}-{Interlocked.Increment(ref _nextId)}-{Guid.NewGuid():N}"));

    (int, string) DeleteContexts(string body, string property, string resultProperty)
    {
        using var document = JsonDocument.Parse(body);
        var results = new JsonArray();
        foreach (var id in document.RootElement.GetProperty(property).EnumerateArray().Select(e => e.GetString()!))
        {
            var owner = _contexts.FirstOrDefault(c => c.Key == id || c.Value.CurrentId == id);
            var removed = owner.Key is not null && _contexts.TryRemove(owner.Key, out _);
            results.Add(new JsonObject { ["successful"] = removed, [property] = id });
        }
        return (200, new JsonObject { [resultProperty] = results, ["succeeded"] = true }.ToJsonString());
    }

    Context? FindContext(string id) =>
        _contexts.TryGetValue(id, out var direct) ? direct : _contexts.Values.FirstOrDefault(c => c.CurrentId == id || (!RotatePitIds && c.CurrentId == id));

    (int, string) PitSearch(string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        var pitId = request["pit"]?["id"]?.GetValue<string>()
                    ?? throw new InvalidOperationException("a search without an index needs a pit");
        var context = RotatePitIds
            ? _contexts.Values.FirstOrDefault(c => c.CurrentId == pitId)
            : FindContext(pitId);
        if (context is null)
            return (404, Error("search_context_missing_exception", $"No search context found for id [{pitId}]"));
        var hits = Matches(context, request);
        var sortField = SortField(request);
        var after = request["search_after"]?.AsArray()[0];
        var (sliceId, sliceMax, sliceField) = Slice(request);
        IEnumerable<Hit> selected = hits;
        if (StartAfter(request) is { } startAfter)
        {
            if (startAfter.Field != sortField) throw new InvalidOperationException("the loopback server filters 'gt' on the sort field only");
            selected = selected.Where(h => string.CompareOrdinal(h.SortValue, startAfter.Value) > 0);
        }
        // As OpenSearch's SliceBuilder: a slice field other than _id must be numeric with doc values.
        if (sliceField is not null and not "_id" && _indexes.LoadMapping(context.Index).Lookup(sliceField) is not (FieldKind.Long or FieldKind.Date))
            return (400, Error("illegal_argument_exception", $"cannot load numeric doc values on field [{sliceField}]"));
        if (sliceMax > 1) selected = selected.Where(h => SliceOf(h, sliceField, sliceMax) == sliceId);
        if (after is not null)
            selected = sortField == "_shard_doc"
                ? selected.Where(h => h.Position > after.GetValue<long>())
                : selected.Where(h => string.CompareOrdinal(h.SortValue, after.GetValue<string>()) > 0);
        var size = request["size"]?.GetValue<int>() ?? 10;
        var all = selected.ToList();
        var page = all.Take(size).ToList();
        if (RotatePitIds) context.CurrentId = NewId("pit");
        if (SearchDelay > TimeSpan.Zero) Thread.Sleep(SearchDelay);
        var total = request["track_total_hits"]?.GetValue<bool>() == true ? (long?)all.Count : null;
        return (200, SearchResponse(context.Index, page, total, sortField, pitId: context.CurrentId, scrollId: null));
    }

    (int, string) ScrollStart(string index, string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        var context = new Context { Index = index, Kind = "scroll" };
        var (sliceId, sliceMax, _) = Slice(request);
        var hits = Matches(context, request).Where(h => sliceMax <= 1 || h.Position % sliceMax == sliceId).ToList();
        var size = request["size"]?.GetValue<int>() ?? 10;
        context.ScrollHits = hits;
        context.ScrollSize = size;
        context.ScrollPosition = Math.Min(size, hits.Count);
        var id = NewId("scroll");
        context.CurrentId = id;
        _contexts[id] = context;
        return (200, SearchResponse(index, hits.Take(size).ToList(), hits.Count, null, pitId: null, scrollId: id));
    }

    (int, string) ScrollNext(string body)
    {
        using var document = JsonDocument.Parse(body);
        var id = document.RootElement.GetProperty("scroll_id").GetString()!;
        if (!_contexts.TryGetValue(id, out var context))
            return (404, Error("search_context_missing_exception", $"No search context found for id [{id}]"));
        lock (context)
        {
            var page = context.ScrollHits!.Skip(context.ScrollPosition).Take(context.ScrollSize).ToList();
            context.ScrollPosition += page.Count;
            return (200, SearchResponse(context.Index, page, context.ScrollHits!.Count, null, pitId: null, scrollId: id));
        }
    }

    static string SortField(JsonObject request) =>
        request["sort"] is JsonArray { Count: > 0 } sort ? sort[0]!.AsObject().First().Key : "_shard_doc";

    static (int Id, int Max, string? Field) Slice(JsonObject request) =>
        request["slice"] is JsonObject slice
            ? (slice["id"]!.GetValue<int>(), slice["max"]!.GetValue<int>(), slice["field"]?.GetValue<string>())
            : (0, 1, null);

    static int SliceOf(Hit hit, string? field, int max)
    {
        if (field is null) return (int)(hit.Position % max);
        var hash = 2166136261u;
        foreach (var c in hit.SortValue ?? "") hash = (hash ^ c) * 16777619u;
        return (int)(hash % (uint)max);
    }

    /// <summary>The query's matches in index order, computed once per context and query (a PIT is a
    /// snapshot), through the embedded source itself.</summary>
    List<Hit> Matches(Context context, JsonObject request)
    {
        var (query, from, to, timestampField) = QueryOf(request);
        var includes = request["_source"]?["includes"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? new List<string>();
        var sortField = SortField(request);
        var key = $"{query}\u0001{from}\u0001{to}\u0001{string.Join(",", includes)}\u0001{sortField}";
        return context.Results.GetOrAdd(key, _ =>
        {
            var sourceQuery = new SourceQuery(context.Index, query, Array.Empty<string>(), timestampField ?? "@timestamp", from, to);
            var filter = includes.Count > 0 ? new SourceFilter(includes) : null;
            var hits = new List<Hit>();
            foreach (var document in ReadAll(sourceQuery))
            {
                var sortValue = sortField is "_shard_doc" or "_doc" ? null : ValueAt(document, sortField);
                var source = filter is null ? document : Encoding.UTF8.GetString(filter.Apply(Encoding.UTF8.GetBytes(document)));
                hits.Add(new Hit(hits.Count, source, sortValue));
            }
            if (sortField is not ("_shard_doc" or "_doc")) hits.Sort((a, b) => string.CompareOrdinal(a.SortValue, b.SortValue));
            return hits;
        });
    }

    List<string> ReadAll(SourceQuery query)
    {
        var documents = new List<string>();
        var session = _embedded.OpenAsync(query, CancellationToken.None).GetAwaiter().GetResult();
        try
        {
            using var queue = new RecordBatchQueue(1024, CancellationToken.None);
            session.ReadAsync(queue, CancellationToken.None).GetAwaiter().GetResult();
            queue.CompleteAdding();
            foreach (var batch in queue.Consume())
                for (var i = 0; i < batch.Count; i++) documents.Add(Encoding.UTF8.GetString(batch[i]));
        }
        finally
        {
            session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return documents;
    }

    static string? ValueAt(string document, string dottedPath)
    {
        JsonNode? node = JsonNode.Parse(document);
        var flat = node?[dottedPath];
        if (flat is not null) return flat.ToString();
        foreach (var segment in dottedPath.Split('.')) node = node?[segment];
        return node?.ToString();
    }

    static (string Query, DateTimeOffset? From, DateTimeOffset? To, string? TimestampField) QueryOf(JsonObject request)
    {
        var boolQuery = request["query"]?["bool"];
        var query = boolQuery?["must"]?["query_string"]?["query"]?.GetValue<string>() ?? "*";
        DateTimeOffset? from = null, to = null;
        string? field = null;
        if (boolQuery?["filter"] is JsonArray filters)
            foreach (var range in filters.Select(f => f!["range"]!.AsObject()))
            {
                var (name, bounds) = range.First();
                if (bounds!["gt"] is not null) continue; // a resumed slice's start (see StartAfter)
                field = name;
                if (bounds!["gte"] is { } gte) from = DateTimeOffset.Parse(gte.GetValue<string>());
                if (bounds["lt"] is { } lt) to = DateTimeOffset.Parse(lt.GetValue<string>());
                if (bounds["lte"] is not null) throw new InvalidOperationException("the client sends -To as an exclusive 'lt' bound");
            }
        return (query, from, to, field);
    }

    /// <summary>A <c>range: {field: {gt: value}}</c> filter: where a resumed slice starts.</summary>
    static (string Field, string Value)? StartAfter(JsonObject request)
    {
        if (request["query"]?["bool"]?["filter"] is not JsonArray filters) return null;
        foreach (var range in filters.Select(f => f!["range"]!.AsObject()))
        {
            var (name, bounds) = range.First();
            if (bounds!["gt"] is { } gt) return (name, gt.GetValue<string>());
        }
        return null;
    }

    string SearchResponse(string index, List<Hit> page, long? total, string? sortField, string? pitId, string? scrollId)
    {
        var builder = new StringBuilder(64 + page.Sum(h => h.Source.Length + 80));
        builder.Append('{');
        if (pitId is not null) builder.Append("\"pit_id\":").Append(JsonSerializer.Serialize(pitId)).Append(',');
        if (scrollId is not null) builder.Append("\"_scroll_id\":").Append(JsonSerializer.Serialize(scrollId)).Append(',');
        builder.Append("\"took\":1,\"timed_out\":false,\"_shards\":{\"total\":1,\"successful\":1,\"skipped\":0,\"failed\":0},\"hits\":{");
        if (total is not null) builder.Append("\"total\":{\"value\":").Append(total).Append(",\"relation\":\"eq\"},");
        builder.Append("\"max_score\":null,\"hits\":[");
        for (var i = 0; i < page.Count; i++)
        {
            var hit = page[i];
            if (i > 0) builder.Append(',');
            builder.Append("{\"_index\":").Append(JsonSerializer.Serialize(index)).Append(",\"_id\":\"").Append(hit.Position)
                .Append("\",\"_score\":null");
            if (!SourceDisabled) builder.Append(",\"_source\":").Append(hit.Source);
            if (sortField is not null)
                builder.Append(",\"sort\":[").Append(sortField == "_shard_doc" ? hit.Position.ToString() : JsonSerializer.Serialize(hit.SortValue)).Append(']');
            builder.Append('}');
        }
        builder.Append("]}}");
        return builder.ToString();
    }

    string FieldCaps(string index)
    {
        var mapping = _indexes.LoadMapping(index);
        var fields = new JsonObject();
        foreach (var (name, kind) in mapping.Fields)
        {
            var type = kind switch
            {
                FieldKind.Text => "text", FieldKind.Keyword => "keyword", FieldKind.Date => "date",
                FieldKind.Long => "long", FieldKind.Double => "double", _ => "boolean",
            };
            fields[name] = new JsonObject { [type] = new JsonObject { ["type"] = type, ["searchable"] = true, ["aggregatable"] = kind != FieldKind.Text } };
        }
        fields["_id"] = new JsonObject { ["_id"] = new JsonObject { ["type"] = "_id", ["searchable"] = true, ["aggregatable"] = false } };
        return new JsonObject { ["indices"] = new JsonArray(index), ["fields"] = fields }.ToJsonString();
    }

    string ValidateQuery(string index, string body)
    {
        var (query, _, _, _) = QueryOf(JsonNode.Parse(body)!.AsObject());
        try
        {
            _embedded.Validate(new SourceQuery(index, query, Array.Empty<string>(), "@timestamp", null, null));
            return new JsonObject { ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["failed"] = 0 }, ["valid"] = true }.ToJsonString();
        }
        catch (ExportException ex) when (ex.Code == ExportErrorCode.InvalidQuery)
        {
            return new JsonObject
            {
                ["valid"] = false,
                ["explanations"] = new JsonArray(new JsonObject { ["index"] = index, ["valid"] = false, ["error"] = "[" + index + "] QueryShardException[Failed to parse query [" + query + "]]; " + ex.Message }),
            }.ToJsonString();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
