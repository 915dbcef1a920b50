using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Json;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Util;

namespace ExportsPS.Engine.Sources.Embedded;

/// <summary>The default source: a Lucene.NET index in the data folder. Every match streams through a
/// collector that reads its <c>_source</c> as it is collected (no TopDocs, no result window).</summary>
public sealed class EmbeddedSource : IRecordSource
{
    readonly EmbeddedIndexStore _store;
    readonly Func<DateTimeOffset> _clock;

    public EmbeddedSource(EmbeddedIndexStore store, Func<DateTimeOffset>? clock = null)
    {
        _store = store;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    public string Name => SourceNames.Embedded;
    public EmbeddedIndexStore Store => _store;

    public void Validate(SourceQuery query, CancellationToken cancellationToken = default) => Compile(query, _store.LoadMappingOf(query.Index, _store.RequireExisting(query.Index)));

    public IReadOnlyList<string> DefaultColumns(string index, CancellationToken cancellationToken = default)
    {
        var mapping = _store.LoadMappingOf(index, _store.RequireExisting(index));
        return mapping.DefaultColumns.Count > 0 ? mapping.DefaultColumns : mapping.FieldOrder.Take(FieldPatterns.DefaultColumnCount).ToList();
    }

    public IReadOnlyList<string> ExpandFields(string index, IReadOnlyList<string> fields, CancellationToken cancellationToken = default)
    {
        if (!fields.Any(f => f.IndexOfAny(['*', '?']) >= 0)) return fields;
        var mapping = _store.LoadMappingOf(index, _store.RequireExisting(index));
        return FieldPatterns.Expand(fields, mapping.FieldOrder.Where(f => !f.EndsWith(IndexMapping.KeywordSuffix, StringComparison.Ordinal)).ToList(), index);
    }

    public Task<ISourceSession> OpenAsync(SourceQuery query, CancellationToken cancellationToken)
    {
        var folder = _store.RequireExisting(query.Index);
        var mapping = _store.LoadMappingOf(query.Index, folder);
        var compiled = Compile(query, mapping);
        var directory = EmbeddedIndexStore.OpenDirectory(folder);
        DirectoryReader reader;
        try
        {
            reader = DirectoryReader.Open(directory);
        }
        catch (Exception ex) when (ex is IOException or CorruptIndexException or IndexFormatTooOldException or IndexFormatTooNewException)
        {
            directory.Dispose();
            throw new ExportException(ExportErrorCode.SourceFailed,
                $"The embedded index '{query.Index}' at '{folder}' cannot be opened ({ex.Message}). " +
                "Re-import the data with Import-ExportData -Force to rebuild it.", query.Index, ex);
        }
        return Task.FromResult<ISourceSession>(new Session(directory, reader, compiled, query.Fields, LeafColumnsOf(reader, query.Columns)));
    }

    /// <summary>The map for leaf records when the caller wants columns and the index's commit has its path list.</summary>
    static LeafColumnMap? LeafColumnsOf(DirectoryReader reader, IReadOnlyList<string>? columns) =>
        columns is not null && reader.IndexCommit.UserData.TryGetValue(EmbeddedFields.LeafPathsKey, out var stored)
            ? LeafPaths.FromJson(stored)?.MapColumns(columns)
            : null;

    Query Compile(SourceQuery query, IndexMapping mapping)
    {
        foreach (var field in query.Fields)
            if (!mapping.Knows(field))
            {
                var suggestions = FieldSuggestions.Closest(field, mapping.FieldOrder, 3);
                var hint = suggestions.Count > 0 ? $" Did you mean {string.Join(", ", suggestions)}?" : "";
                throw new ExportException(ExportErrorCode.InvalidField,
                    $"Field '{field}' does not exist in index '{query.Index}'.{hint}", field);
            }

        using var analyzer = EmbeddedIndexStore.CreateAnalyzer();
        var parsed = EmbeddedQueryParser.Parse(query.Query, mapping, analyzer, _clock());
        if (query.From is null && query.To is null) return parsed;

        var kind = mapping.Lookup(query.TimestampField);
        if (kind != FieldKind.Date && kind != FieldKind.Long)
            throw new ExportException(ExportErrorCode.InvalidField,
                $"-From/-To filter on the timestamp field '{query.TimestampField}', which index '{query.Index}' " +
                (kind is null ? "does not have" : $"maps as {kind.ToString()!.ToLowerInvariant()}, not a date") +
                ". Set -TimestampField to a date field.", query.TimestampField);
        var range = NumericRangeQuery.NewInt64Range(query.TimestampField, EmbeddedFields.NumericPrecisionStep,
            query.From?.ToUnixTimeMilliseconds(), query.To?.ToUnixTimeMilliseconds(), true, false); // [From, To), as OpenSearch's gte/lt
        return new BooleanQuery { { parsed, Occur.MUST }, { range, Occur.MUST } };
    }

    sealed class Session : ISourceSession
    {
        readonly Lucene.Net.Store.Directory _directory;
        readonly DirectoryReader _reader;
        readonly Query _query;
        readonly IReadOnlyList<string> _fields;

        public Session(Lucene.Net.Store.Directory directory, DirectoryReader reader, Query query, IReadOnlyList<string> fields, LeafColumnMap? leafColumns)
        {
            _directory = directory;
            _reader = reader;
            _query = query;
            _fields = fields;
            LeafColumns = leafColumns;
            var counter = new TotalHitCountCollector();
            new IndexSearcher(reader).Search(query, counter);
            Total = counter.TotalHits;
        }

        public long Total { get; }

        public LeafColumnMap? LeafColumns { get; }

        // Positions are Lucene doc ids, which a merge renumbers; local reads are fast enough to restart.
        public string? ResumeUnsupportedReason =>
            "the embedded index has no stable sort position to continue from (its document numbers change as segments merge); run the export again";

        public Task ReadAsync(RecordBatchQueue queue, CancellationToken cancellationToken) =>
            Task.Factory.StartNew(() =>
            {
                var collector = new SourceCollector(queue, _fields.Count > 0 ? new SourceFilter(_fields) : null, LeafColumns is not null, cancellationToken);
                new IndexSearcher(_reader).Search(_query, collector);
                collector.Flush();
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _directory.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Loads each match's <c>_source</c> (or its leaf record, when asked and the document has one) in
    /// <see cref="Collect"/> and hands full batches on.</summary>
    sealed class SourceCollector : ICollector
    {
        readonly RecordBatchQueue _queue;
        readonly SourceFilter? _filter;
        readonly bool _preferLeaves;
        readonly CancellationToken _token;
        readonly BytesRef _scratch = new();
        BinaryDocValues? _sources;
        BinaryDocValues? _leaves; // null in segments imported before leaf records, or when not asked for
        RecordBatch _batch;

        public SourceCollector(RecordBatchQueue queue, SourceFilter? filter, bool preferLeaves, CancellationToken token)
        {
            _queue = queue;
            _filter = filter;
            _preferLeaves = preferLeaves;
            _token = token;
            _batch = queue.Rent();
        }

        public bool AcceptsDocsOutOfOrder => false;

        public void SetScorer(Scorer scorer) { }

        public void SetNextReader(AtomicReaderContext context)
        {
            _sources = context.AtomicReader.GetBinaryDocValues(EmbeddedFields.Source);
            _leaves = _preferLeaves ? context.AtomicReader.GetBinaryDocValues(EmbeddedFields.Leaves) : null;
        }

        public void Collect(int doc)
        {
            if (_sources is null) return;
            if (_leaves is not null)
            {
                _leaves.Get(doc, _scratch); // empty for a document that has none
                if (_scratch.Length > 0)
                {
                    Add(new ReadOnlySpan<byte>(_scratch.Bytes, _scratch.Offset, _scratch.Length));
                    return;
                }
            }
            _sources.Get(doc, _scratch);
            var bytes = new ReadOnlySpan<byte>(_scratch.Bytes, _scratch.Offset, _scratch.Length);
            Add(_filter is null ? bytes : _filter.Apply(bytes));
        }

        void Add(ReadOnlySpan<byte> record)
        {
            _batch.Add(record);
            if (_batch.IsFull)
            {
                _token.ThrowIfCancellationRequested();
                _queue.Publish(_batch);
                _batch = _queue.Rent();
            }
        }

        public void Flush()
        {
            _queue.Publish(_batch);
        }
    }
}
