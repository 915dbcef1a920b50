using System.Diagnostics;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Secrets;
using ExportsPS.Engine.Sources.Embedded;

namespace ExportsPS.Engine.Sources.OpenSearch;

/// <summary>A registered OpenSearch cluster as a record source. Reads with a point in time and
/// <c>search_after</c> (sorted on <c>_shard_doc</c>, or on the configured unique tiebreaker before 3.3),
/// each slice on its own task into the run's one queue; falls back to scroll (with slices) where PIT is
/// missing (OpenSearch before 2.4, Elasticsearch 7). The PIT or scrolls are released in every outcome.</summary>
public sealed class OpenSearchSource : IRecordSource, IDisposable
{
    const int MaxSlices = 64;
    readonly OpenSearchSettings _settings;
    readonly OpenSearchClient _client;
    ClusterInfo? _info;
    readonly Dictionary<string, (DateTime At, FieldCatalog Fields)> _fieldCache = new(StringComparer.Ordinal);

    public OpenSearchSource(OpenSearchSettings settings, SecretVault? vault)
    {
        settings.Validate();
        _settings = settings;
        _client = new OpenSearchClient(settings, vault);
    }

    public string Name => _settings.Name;
    public OpenSearchSettings Settings => _settings;
    public long Retries => _client.Retries;

    // The engine's source interface is synchronous for validation (it runs on the cmdlet's thread before
    // any work starts); the HTTP calls underneath are async, so block here, never in a read loop.
    static T Wait<T>(Task<T> task) => task.ConfigureAwait(false).GetAwaiter().GetResult();

    public async Task<ClusterInfo> InfoAsync(CancellationToken token)
    {
        if (_info is not null) return _info;
        using var body = await _client.SendAsync(HttpMethod.Get, "/", null, RetrySafety.Idempotent, token);
        return _info = ClusterInfo.Parse(body.Span, Name);
    }

    public void Validate(SourceQuery query, CancellationToken cancellationToken = default)
    {
        var fields = Fields(query.Index, cancellationToken);
        foreach (var field in query.Fields) fields.Require(field, query.Index);
        if (query.From is not null || query.To is not null) fields.Require(query.TimestampField, query.Index);
        if (string.IsNullOrWhiteSpace(query.Query) || query.Query.Trim() == "*") return;
        using var body = Wait(_client.SendAsync(HttpMethod.Post, $"/{IndexPath(query.Index)}/_validate/query?explain=true",
            SearchRequests.ValidateQuery(query), RetrySafety.Idempotent, cancellationToken));
        using var document = JsonDocument.Parse(body.Memory);
        if (document.RootElement.TryGetProperty("valid", out var valid) && valid.ValueKind == JsonValueKind.False)
        {
            var error = document.RootElement.TryGetProperty("explanations", out var explanations)
                        && explanations.EnumerateArray().Select(e => e.TryGetProperty("error", out var x) ? x.GetString() : null).FirstOrDefault(x => x is not null) is { } reason
                ? reason
                : document.RootElement.TryGetProperty("error", out var top) ? top.ToString() : "no reason given";
            throw new ExportException(ExportErrorCode.InvalidQuery,
                $"OpenSearch cannot parse the query '{query.Query}': {error}. Fix the Lucene query (quote values with spaces or special characters).", query.Query);
        }
    }

    public IReadOnlyList<string> ExpandFields(string index, IReadOnlyList<string> fields, CancellationToken cancellationToken = default) =>
        Fields(index, cancellationToken).Expand(fields, index);

    public IReadOnlyList<string> DefaultColumns(string index, CancellationToken cancellationToken = default) =>
        Fields(index, cancellationToken).DefaultColumns();

    FieldCatalog Fields(string index, CancellationToken cancellationToken)
    {
        lock (_fieldCache)
            if (_fieldCache.TryGetValue(index, out var cached) && DateTime.UtcNow - cached.At < TimeSpan.FromMinutes(1))
                return cached.Fields;
        using var body = Wait(_client.SendAsync(HttpMethod.Get, $"/{IndexPath(index)}/_field_caps?fields=*",
            null, RetrySafety.Idempotent, cancellationToken));
        var catalog = FieldCatalog.Parse(body.Span);
        lock (_fieldCache) _fieldCache[index] = (DateTime.UtcNow, catalog);
        return catalog;
    }

    string IndexPath(string logical)
    {
        var real = _settings.ResolveIndex(logical);
        // "." and ".." are no index names, and a URL would resolve them away: /../_search searches every index the
        // credentials can read (behind a gateway, outside its path prefix too).
        if (string.IsNullOrWhiteSpace(real) || real.IndexOfAny(['/', '\\', '?', '#', ' ', '"']) >= 0 || real.StartsWith('_')
            || real.Split(',').Any(part => part.Trim() is "" or "." or ".."))
            throw new ExportException(ExportErrorCode.UnknownIndex,
                $"'{real}' is not an OpenSearch index name or pattern (no spaces, / \\ ? # \", must not start with _, no empty, . or .. part).", real);
        return string.Join(',', real.Split(',').Select(part => Uri.EscapeDataString(part.Trim())));
    }

    /// <summary>The sort key and how a sliced read partitions documents. <c>_shard_doc</c> is the cheapest
    /// exact order; a unique field is the portable one. Slices always split on OpenSearch's default (shards, then
    /// <c>_id</c>): a slice field must be numeric with doc values, which a keyword tiebreaker is not, and the
    /// default is as stable across PITs as long as the shard layout is (which a resume checks).</summary>
    (string Sort, string? SliceField) SortKey(ClusterInfo info)
    {
        if (_settings.TiebreakerField is { } field) return (field, null);
        if (info.SupportsShardDoc) return ("_shard_doc", null);
        throw new ExportException(ExportErrorCode.InvalidOption,
            $"OpenSearch {info.VersionText} on source '{Name}' has no _shard_doc sort (it arrived in 3.3), so a point-in-time read needs a unique " +
            "tiebreaker field: Register-ExportSource -Name " + Name + " -TiebreakerField uuid -Force (any unique keyword field), or -ReadMode Scroll.", Name);
    }

    public async Task<ISourceSession> OpenAsync(SourceQuery query, CancellationToken cancellationToken)
    {
        if (query.Slices is < 1 or > MaxSlices)
            throw new ExportException(ExportErrorCode.InvalidOption, $"-Slices must be between 1 and {MaxSlices}.", query.Slices);
        var info = await InfoAsync(cancellationToken);
        var usePit = _settings.ReadMode switch
        {
            OpenSearchReadMode.Scroll => false,
            OpenSearchReadMode.PointInTime when !info.SupportsPointInTime => throw new ExportException(ExportErrorCode.InvalidOption,
                $"Source '{Name}' runs {info.Distribution} {info.VersionText}, which has no point-in-time search (OpenSearch 2.4+). Use -ReadMode Auto or Scroll.", Name),
            _ => info.SupportsPointInTime,
        };
        SlicedSession session = usePit
            ? new PitSession(this, query, SortKey(info))
            : new ScrollSession(this, query);
        try
        {
            await session.OpenAsync(cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    public async Task<SourceProbe> ProbeAsync(string? index, IReadOnlyList<string> fields, CancellationToken token)
    {
        var watch = Stopwatch.StartNew();
        _info = null;
        var info = await InfoAsync(token);
        var latency = watch.Elapsed;
        var usePit = _settings.ReadMode != OpenSearchReadMode.Scroll && info.SupportsPointInTime;
        string sort;
        try { sort = usePit ? SortKey(info).Sort : "_doc (scroll)"; }
        catch (ExportException) { sort = "none: set -TiebreakerField"; }
        var probe = new SourceProbe
        {
            Name = Name, Url = _client.CurrentNode.ToString(), Distribution = info.Distribution, Version = info.VersionText,
            ClusterName = info.ClusterName, SupportsPointInTime = info.SupportsPointInTime, SupportsShardDoc = info.SupportsShardDoc,
            ReadMode = usePit ? "PointInTime" : "Scroll", SortKey = sort, Latency = latency,
        };
        if (index is null) return probe;
        var resolved = _settings.ResolveIndex(index);
        try
        {
            using var count = await _client.SendAsync(HttpMethod.Get, $"/{IndexPath(index)}/_count", null, RetrySafety.Idempotent, token);
            using var countJson = JsonDocument.Parse(count.Memory);
            using var settings = await _client.SendAsync(HttpMethod.Get,
                $"/{IndexPath(index)}/_settings?include_defaults=true&flat_settings=true", null, RetrySafety.Idempotent, token);
            lock (_fieldCache) _fieldCache.Remove(index);
            return probe with
            {
                Index = index, ResolvedIndex = resolved, IndexExists = true,
                DocumentCount = countJson.RootElement.GetProperty("count").GetInt64(),
                MaxResultWindow = MaxResultWindow(settings.Span),
                Fields = ExpandFields(index, fields, token),
            };
        }
        catch (ExportException ex) when (ex.Code == ExportErrorCode.UnknownIndex)
        {
            if (fields.Count > 0) throw;
            return probe with { Index = index, ResolvedIndex = resolved, IndexExists = false };
        }
    }

    /// <summary>The smallest max_result_window over the indices the pattern covers (default 10000).</summary>
    static long? MaxResultWindow(ReadOnlySpan<byte> settingsBody)
    {
        using var document = JsonDocument.Parse(settingsBody.ToArray());
        long? smallest = null;
        foreach (var index in document.RootElement.EnumerateObject())
            foreach (var group in new[] { "settings", "defaults" })
                if (index.Value.TryGetProperty(group, out var values) && values.TryGetProperty("index.max_result_window", out var window)
                    && long.TryParse(window.ToString(), out var value))
                    smallest = Math.Min(smallest ?? long.MaxValue, value);
        return smallest;
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Reads N slices concurrently into the run's queue; each slice's first page is fetched when
    /// the session opens (it carries the slice's exact total), the rest as the queue drains.</summary>
    abstract class SlicedSession : ISourceSession
    {
        protected readonly OpenSearchSource Source;
        protected readonly SourceQuery Query;
        protected readonly SearchPage?[] FirstPages;
        long _pages;

        protected SlicedSession(OpenSearchSource source, SourceQuery query)
        {
            Source = source;
            Query = query;
            FirstPages = new SearchPage?[query.Slices];
        }

        protected OpenSearchClient Client => Source._client;
        protected OpenSearchSettings Settings => Source._settings;
        protected string IndexPath => Source.IndexPath(Query.Index);

        public long Total { get; private set; }
        public long Pages => Interlocked.Read(ref _pages);
        public abstract string Method { get; }

        public abstract string? ResumeUnsupportedReason { get; }
        public abstract string PositionKey { get; }
        public virtual string? MissingRecordsHint => null;

        public string Describe() =>
            $"{Method}, {Query.Slices} slice{(Query.Slices == 1 ? "" : "s")}, {Pages} page{(Pages == 1 ? "" : "s")}" +
            (Source.Retries > 0 ? $", {Source.Retries} retr{(Source.Retries == 1 ? "y" : "ies")}" : "");

        public async Task OpenAsync(CancellationToken token)
        {
            await PrepareAsync(token);
            var pages = await Task.WhenAll(Enumerable.Range(0, Query.Slices).Select(slice => FirstPageAsync(slice, token)));
            for (var slice = 0; slice < pages.Length; slice++)
            {
                FirstPages[slice] = pages[slice];
                Interlocked.Increment(ref _pages);
                Total += pages[slice].Total ?? throw new ExportException(ExportErrorCode.SourceFailed,
                    $"Source '{Source.Name}' did not return an exact total for slice {slice}; the run needs it to prove the file complete.", Source.Name);
            }
        }

        protected virtual Task PrepareAsync(CancellationToken token) => Task.CompletedTask;
        protected abstract Task<SearchPage> FirstPageAsync(int slice, CancellationToken token);
        /// <summary>Null when the slice is exhausted.</summary>
        protected abstract Task<SearchPage?> NextPageAsync(int slice, SearchPage previous, CancellationToken token);

        /// <summary>Reads every slice in parallel. One failing stops the others at once: the run fails anyway, and
        /// the rest would otherwise read (and the writer write) for hours before it could.</summary>
        public async Task ReadAsync(RecordBatchQueue queue, CancellationToken cancellationToken)
        {
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var slices = Enumerable.Range(0, Query.Slices).Select(slice => Task.Run(async () =>
            {
                try { await ReadSliceAsync(slice, queue, failed.Token); }
                catch
                {
                    failed.Cancel();
                    throw;
                }
            }, CancellationToken.None)).ToArray();
            try { await Task.WhenAll(slices); }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // What stopped the others, not the cancellation it caused in them.
                var cause = slices.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
                if (cause is null) throw;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            }
        }

        async Task ReadSliceAsync(int slice, RecordBatchQueue queue, CancellationToken token)
        {
            var page = FirstPages[slice];
            FirstPages[slice] = null;
            var batch = queue.Rent();
            try
            {
                while (page is not null)
                {
                    page.PublishTo(queue, ref batch, slice);
                    token.ThrowIfCancellationRequested();
                    var next = await NextPageAsync(slice, page, token);
                    page.Dispose();
                    page = next;
                    if (page is not null) Interlocked.Increment(ref _pages);
                }
                queue.Publish(batch);
            }
            finally
            {
                page?.Dispose();
            }
        }

        protected SearchPage Parse(ResponseBody body, bool allowRejections = false, Action<string>? failedPageScrollId = null) =>
            SearchPage.Parse(body, Source.Name, allowRejections, failedPageScrollId);

        public abstract ValueTask DisposeAsync();

        protected async Task ReleaseAsync(HttpMethod method, string path, byte[] body)
        {
            // Released whatever happened to the run, with a short deadline of its own: a canceled run's
            // token must not stop the cleanup, and an unreachable cluster frees the context on expiry anyway.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                using var _ = await Client.SendAsync(method, path, body, RetrySafety.RefusalsOnly, deadline.Token);
            }
            catch (Exception ex) when (ex is ExportException or OperationCanceledException) { }
            foreach (var page in FirstPages) page?.Dispose();
        }
    }

    sealed class PitSession : SlicedSession
    {
        readonly string _sortField;
        readonly string? _sliceField;
        string? _pitId;

        public PitSession(OpenSearchSource source, SourceQuery query, (string Sort, string? SliceField) sort) : base(source, query)
        {
            _sortField = sort.Sort;
            _sliceField = sort.SliceField;
        }

        public override string Method => $"point in time, sorted on {_sortField}";
        // "by _id": slices used to split on the tiebreaker; a checkpoint written then is refused rather than misapplied.
        public override string PositionKey => _layout is null ? _sortField : $"{_sortField} over {_layout} by _id";

        public override string? MissingRecordsHint => _sortField != Settings.TiebreakerField ? null :
            $"Source '{Source.Name}' reads in order of -TiebreakerField '{_sortField}' and continues after the last value it saw, so that " +
            "field must be unique and set in every document: documents that share a value across pages, or lack it, are skipped. " +
            $"Choose a unique keyword field (Register-ExportSource -Name {Source.Name} -TiebreakerField <field> -Force), or on OpenSearch 3.3 " +
            "and later leave it out to sort on _shard_doc.";

        /// <summary>With several slices, which slice a document falls in depends on the indices and shards the
        /// PIT covers: recorded with the positions, so a resume over a changed layout (a new daily index, a
        /// swapped alias) is refused instead of missing or repeating records.</summary>
        string? _layout;

        // A unique field's values mean the same in every point in time; _shard_doc's only within its own.
        public override string? ResumeUnsupportedReason =>
            _sortField != Settings.TiebreakerField
                ? $"source '{Source.Name}' sorts on {_sortField}, whose positions hold only within one point in time. " +
                  $"Register-ExportSource -Name {Source.Name} -TiebreakerField <a unique keyword field, e.g. uuid> -Force makes its runs resumable"
                : _layoutUnknown
                    ? $"with several slices a resume needs the indices and shards behind '{Query.Index}', and source '{Source.Name}' could not read them " +
                      "(_settings; its credentials may lack indices:monitor/settings/get)"
                    : null;

        bool _layoutUnknown;

        /// <summary>A resumed slice starts after its last written record with a range filter rather than
        /// search_after, so the slice's first page counts exactly what is left.</summary>
        (string Field, string Value)? ResumeFilter(int slice)
        {
            if (ResumeUnsupportedReason is not null || Query.ResumeAfter is not { } after || after[slice] is not { } position) return null;
            using var sort = JsonDocument.Parse(position);
            // "gt": null would be no bound at all: the slice would start over and write duplicates.
            if (sort.RootElement[0].ValueKind == JsonValueKind.Null)
                throw new ExportException(ExportErrorCode.ResumeNotPossible,
                    $"Slice {slice} stopped at a document without '{_sortField}', so there is no position to continue after. " +
                    $"The tiebreaker must be set on every document; run the export again without -Resume.", _sortField);
            return (_sortField, sort.RootElement[0].GetRawText());
        }

        protected override async Task PrepareAsync(CancellationToken token)
        {
            // Partial creation is OpenSearch's default: a PIT missing a shard (relocating, its node down) would read,
            // and count, every document but that shard's, and the run would end complete without them.
            using var body = await Client.SendAsync(HttpMethod.Post,
                $"/{IndexPath}/_search/point_in_time?keep_alive={Settings.KeepAlive}&allow_partial_pit_creation=false", null, RetrySafety.RefusalsOnly, token);
            using var document = JsonDocument.Parse(body.Memory);
            _pitId = document.RootElement.TryGetProperty("pit_id", out var id) ? id.GetString() : null;
            if (_pitId is null)
                throw new ExportException(ExportErrorCode.SourceFailed, $"Source '{Source.Name}' created a point in time without returning its pit_id.", Source.Name);
            if (document.RootElement.TryGetProperty("_shards", out var shards) && shards.TryGetProperty("failed", out var failed) && failed.GetInt32() > 0)
                throw new ExportException(ExportErrorCode.SourceFailed,
                    $"Source '{Source.Name}' created the point in time without {failed.GetInt32()} of its shards, so their documents would be missing " +
                    "from the file. Check the cluster's health (GET _cluster/health) and run the export again.", Source.Name);
            if (Query.Slices > 1 && _sortField == Settings.TiebreakerField) _layout = await ReadLayoutAsync(token);
        }

        /// <summary>"index:shards,…" for the open indices behind the index name. filter_path splits on dots, so the
        /// settings are read nested (no flat_settings). Unknown (refused, or an empty answer) makes the run
        /// not resumable rather than failing it: the export itself does not need this.</summary>
        async Task<string?> ReadLayoutAsync(CancellationToken token)
        {
            try
            {
                using var settings = await Client.SendAsync(HttpMethod.Get,
                    $"/{IndexPath}/_settings?expand_wildcards=open&filter_path=*.settings.index.number_of_shards", null, RetrySafety.Idempotent, token);
                using var indices = JsonDocument.Parse(settings.Memory);
                var layout = indices.RootElement.EnumerateObject()
                    .Select(index => index.Value.TryGetProperty("settings", out var values) && values.TryGetProperty("index", out var options)
                                     && options.TryGetProperty("number_of_shards", out var shards)
                        ? $"{index.Name}:{shards}"
                        : null)
                    .ToList();
                if (layout.Count > 0 && layout.All(entry => entry is not null)) return string.Join(",", layout.Order(StringComparer.Ordinal));
            }
            catch (ExportException ex) when (ex.Code is not ExportErrorCode.SourceAuthenticationFailed) { }
            catch (JsonException) { }
            _layoutUnknown = true;
            return null;
        }

        PageRequest Request(int slice, bool first, byte[]? after) => new(Query, Settings.PageSize, Query.Fields, _sortField,
            Volatile.Read(ref _pitId), Settings.KeepAlive, first, after, slice, Query.Slices, _sliceField, ResumeFilter(slice));

        protected override Task<SearchPage> FirstPageAsync(int slice, CancellationToken token) => SearchAsync(Request(slice, true, null), token);

        protected override async Task<SearchPage?> NextPageAsync(int slice, SearchPage previous, CancellationToken token)
        {
            // A short page is the last: no request needed to learn the slice is done.
            if (previous.Count < Settings.PageSize || previous.LastSort is null) return null;
            var page = await SearchAsync(Request(slice, false, previous.LastSort), token);
            if (page.Count > 0) return page;
            page.Dispose();
            return null;
        }

        /// <summary>A page some shards refused (their search queue full) is asked for again by the client's retries:
        /// a point-in-time page is the same page however often it is read. Other shard failures fail.</summary>
        async Task<SearchPage> SearchAsync(PageRequest request, CancellationToken token)
        {
            var page = await Client.SendAsync(HttpMethod.Post, "/_search", SearchRequests.Search(request), RetrySafety.Idempotent, body =>
            {
                var read = Parse(body, allowRejections: true);
                if (read.Rejected is not { } reason) return (read, null);
                read.Dispose();
                return ((SearchPage?)null, reason);
            }, token);
            // The cluster may hand back a new id with any page; later pages (of every slice) must use it.
            if (page.PitId is { } newest) Volatile.Write(ref _pitId, newest);
            return page;
        }

        public override async ValueTask DisposeAsync()
        {
            if (_pitId is { } id)
                await ReleaseAsync(HttpMethod.Delete, "/_search/point_in_time", SearchRequests.IdList("pit_id", [id]));
            else
                foreach (var page in FirstPages) page?.Dispose();
        }
    }

    sealed class ScrollSession : SlicedSession
    {
        readonly string?[] _scrollIds;

        public ScrollSession(OpenSearchSource source, SourceQuery query) : base(source, query) => _scrollIds = new string?[query.Slices];

        public override string Method => "scroll";
        public override string PositionKey => "";

        public override string? ResumeUnsupportedReason =>
            $"source '{Source.Name}' reads by scroll, which has no position to continue from; a point-in-time read with -TiebreakerField is resumable";

        protected override async Task<SearchPage> FirstPageAsync(int slice, CancellationToken token)
        {
            var request = new PageRequest(Query, Settings.PageSize, Query.Fields, "_doc", null, Settings.KeepAlive, true, null, slice, Query.Slices, null);
            // Opening a scroll creates server state: resent only when the cluster refused it outright.
            var body = await Client.SendAsync(HttpMethod.Post, $"/{IndexPath}/_search?scroll={Settings.KeepAlive}",
                SearchRequests.Search(request), RetrySafety.RefusalsOnly, token);
            // A first page that fails (a shard failure, a timeout) still opened the scroll: keep its id to clear it.
            var page = Parse(body, failedPageScrollId: id => _scrollIds[slice] = id);
            _scrollIds[slice] = page.ScrollId;
            return page;
        }

        protected override async Task<SearchPage?> NextPageAsync(int slice, SearchPage previous, CancellationToken token)
        {
            if (previous.Count == 0 || _scrollIds[slice] is not { } scrollId) return null;
            var body = await Client.SendAsync(HttpMethod.Post, "/_search/scroll", SearchRequests.ScrollNext(scrollId, Settings.KeepAlive),
                RetrySafety.RefusalsOnly, token);
            var page = Parse(body, failedPageScrollId: id => _scrollIds[slice] = id);
            if (page.ScrollId is { } newest) _scrollIds[slice] = newest;
            if (page.Count > 0) return page;
            page.Dispose();
            return null;
        }

        public override async ValueTask DisposeAsync()
        {
            var open = _scrollIds.OfType<string>().ToList();
            if (open.Count > 0)
                await ReleaseAsync(HttpMethod.Delete, "/_search/scroll", SearchRequests.IdList("scroll_id", open));
            else
                foreach (var page in FirstPages) page?.Dispose();
        }
    }

    /// <summary>The fields an index (pattern) has, from <c>_field_caps</c>: for validation with suggestions,
    /// pattern expansion and default CSV columns.</summary>
    sealed class FieldCatalog
    {
        readonly List<string> _leaves = new();
        readonly HashSet<string> _all = new(StringComparer.Ordinal);

        public static FieldCatalog Parse(ReadOnlySpan<byte> body)
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var catalog = new FieldCatalog();
            if (!document.RootElement.TryGetProperty("fields", out var fields)) return catalog;
            var objects = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in fields.EnumerateObject())
            {
                if (field.Name.StartsWith('_')) continue;
                catalog._all.Add(field.Name);
                if (field.Value.EnumerateObject().Any(t => t.Name is "object" or "nested")) objects.Add(field.Name);
            }
            foreach (var name in catalog._all.OrderBy(n => n, StringComparer.Ordinal))
            {
                if (objects.Contains(name)) continue;
                // A multi-field (message.keyword) is not in _source: not a column, not an expansion.
                var dot = name.LastIndexOf('.');
                if (dot > 0 && catalog._all.Contains(name[..dot]) && !objects.Contains(name[..dot])) continue;
                catalog._leaves.Add(name);
            }
            return catalog;
        }

        public void Require(string field, string index)
        {
            if (_all.Contains(field)) return;
            var suggestions = FieldSuggestions.Closest(field, _leaves, 3);
            var hint = suggestions.Count > 0 ? $" Did you mean {string.Join(", ", suggestions)}?" : " Test-ExportSource -Index " + index + " -Field '*' lists them.";
            throw new ExportException(ExportErrorCode.InvalidField, $"Field '{field}' does not exist in index '{index}'.{hint}", field);
        }

        public IReadOnlyList<string> Expand(IReadOnlyList<string> fields, string index)
        {
            foreach (var field in fields)
                if (field.IndexOfAny(['*', '?']) < 0) Require(field, index);
            return FieldPatterns.Expand(fields, _leaves, index);
        }

        public IReadOnlyList<string> DefaultColumns()
        {
            var columns = _leaves.Where(f => f == "@timestamp").Concat(_leaves.Where(f => f != "@timestamp")).Take(FieldPatterns.DefaultColumnCount).ToList();
            return columns;
        }
    }
}
