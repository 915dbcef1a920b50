using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Json;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Util;

namespace ExportsPS.Engine.Sources.Embedded;

public sealed record ImportOptions
{
    /// <summary>Replace the index's documents and mapping instead of adding to them.</summary>
    public bool Replace { get; init; }
    /// <summary>Explicit field types (OpenSearch names: text, keyword, date, long, double, boolean).</summary>
    public IReadOnlyDictionary<string, string> Mapping { get; init; } = new Dictionary<string, string>();
    /// <summary>Columns CSV exports of this index use when no field list is given.</summary>
    public IReadOnlyList<string>? DefaultColumns { get; init; }
    /// <summary>Index only the fields named in <see cref="Mapping"/> (OpenSearch <c>dynamic: false</c>).</summary>
    public bool MappedFieldsOnly { get; init; }
}

public sealed record ImportResult(string Index, long Documents, long MalformedValues, long TotalDocuments, TimeSpan Duration);

/// <summary>Loads JSON documents into an embedded index in one commit: a bad document anywhere rolls the
/// whole import back, so the index is never half-loaded.</summary>
public sealed class EmbeddedImporter
{
    readonly EmbeddedIndexStore _store;

    public EmbeddedImporter(EmbeddedIndexStore store) => _store = store;

    /// <summary>Opens a JSON array, JSONL or gzip-compressed file of either as a stream of documents.</summary>
    public static IEnumerable<JsonElement> ReadFile(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
            throw new ExportException(ExportErrorCode.InvalidPath, $"File '{path}' does not exist.", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var gzip = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        // Whether the content is an array or lines is read from its first byte; a decompressing stream cannot go
        // back, so that byte is read through a throwaway one and the file starts over.
        file.Position = 0;
        int first;
        if (gzip)
            using (var peek = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true)) first = FirstNonWhitespace(peek);
        else first = FirstNonWhitespace(file);
        file.Position = 0;
        using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        using var buffered = new BufferedStream(stream, 1 << 16);
        foreach (var element in ReadJson(buffered, first, path, cancellationToken)) yield return element;
    }

    static IEnumerable<JsonElement> ReadJson(Stream stream, int first, string origin, CancellationToken cancellationToken)
    {
        if (first == '[')
        {
            var items = JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(stream, cancellationToken: cancellationToken);
            var enumerator = items.GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    bool more;
                    try { more = enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult(); }
                    catch (JsonException ex)
                    {
                        throw new ExportException(ExportErrorCode.InvalidData,
                            $"'{origin}' is not valid JSON: {ex.Message}", origin, ex);
                    }
                    if (!more) yield break;
                    yield return enumerator.Current;
                }
            }
            finally { enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }
        using var reader = new StreamReader(stream);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument document;
            try { document = JsonDocument.Parse(line); }
            catch (JsonException ex)
            {
                throw new ExportException(ExportErrorCode.InvalidData,
                    $"Line {lineNumber} of '{origin}' is not valid JSON ({ex.Message}). Each line of a JSONL file must be one JSON object.",
                    origin, ex);
            }
            using (document) yield return document.RootElement.Clone();
        }
    }

    /// <summary>The first byte that is not whitespace or a UTF-8 byte-order mark; -1 for an empty stream.</summary>
    static int FirstNonWhitespace(Stream stream)
    {
        int b;
        do { b = stream.ReadByte(); } while (b is ' ' or '\t' or '\r' or '\n' or 0xEF or 0xBB or 0xBF);
        return b;
    }

    /// <summary>One import per index across processes. Lucene's own write lock refuses a second writer in this
    /// process only: another process (a scheduled import overlapping a manual one) got a writer too, and their
    /// commits and rollbacks deleted each other's files, leaving an index nothing could open.</summary>
    static FileStream LockForImport(string index, string folder)
    {
        try { return new FileStream(Path.Combine(folder, "import.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException ex)
        {
            throw new ExportException(ExportErrorCode.SourceFailed,
                $"Index '{index}' is being written by another import (in this or another process); try again when it has finished.", index, ex);
        }
    }

    public ImportResult Import(string index, IEnumerable<JsonElement> documents, ImportOptions options,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        EmbeddedIndexStore.ValidateName(index);
        var started = DateTimeOffset.UtcNow;
        var folder = _store.FolderOf(index);
        Directory.CreateDirectory(folder);
        using var importLock = LockForImport(index, folder);
        // The mapping is checked before the writer opens: a writer left unclosed by a refused -Mapping would keep
        // Lucene's in-process write lock, and every later import into the index would be refused as concurrent.
        var mapping = options.Replace ? new IndexMapping() : IndexMapping.Load(folder);
        foreach (var (field, type) in options.Mapping)
        {
            if (!IndexMapping.TryParseKind(type, out var kind))
                throw new ExportException(ExportErrorCode.InvalidOption,
                    $"Mapping type '{type}' for field '{field}' is unknown. Use text, keyword, date, long, double or boolean.", type);
            mapping.SetExplicit(field, kind);
        }
        if (options.DefaultColumns is { } columns) mapping.DefaultColumns = columns.ToList();
        if (options.MappedFieldsOnly)
        {
            if (options.Mapping.Count == 0)
                throw new ExportException(ExportErrorCode.InvalidOption,
                    "-MappedFieldsOnly indexes only the fields in -Mapping, but -Mapping is empty. Name the fields to index, e.g. -Mapping @{ '@timestamp' = 'date'; 'event.action' = 'keyword' }.");
            mapping.Dynamic = false;
        }

        using var directory = EmbeddedIndexStore.OpenDirectory(folder);
        using var analyzer = EmbeddedIndexStore.CreateAnalyzer();
        var config = new IndexWriterConfig(LuceneVersion.LUCENE_48, analyzer)
        {
            OpenMode = options.Replace ? OpenMode.CREATE : OpenMode.CREATE_OR_APPEND,
            // The managed heap runs to about three times this (a second indexing thread keeps filling while one flushes,
            // and flushed buffers wait for a full GC): at 64 MB a 1M-document import peaked at 290-350 MB and grew with
            // the document count; at 32 MB, 220-245 MB and flat, for 0-5% more import time on ECS events.
            RAMBufferSizeMB = 32,
        };
        IndexWriter writer;
        try { writer = new IndexWriter(directory, config); }
        catch (Lucene.Net.Store.LockObtainFailedException ex)
        {
            throw new ExportException(ExportErrorCode.SourceFailed,
                $"Index '{index}' is being written by another import; try again when it has finished.", index, ex);
        }

        long count = 0;
        long malformed = 0;
        var committed = false;
        try
        {
            // Unreadable (damaged commit data): new documents get no leaf records, and the list stays as it was.
            var leafPaths = LeafPaths.FromJson(options.Replace ? null : writer.CommitData.TryGetValue(EmbeddedFields.LeafPathsKey, out var stored) ? stored : null);
            // One builder per indexing thread: builders reuse their Field instances, so a document must
            // be indexed on the thread that built it. Parsing stays on this thread, in order, and new fields are
            // typed in document order (DocumentOrder), not in whichever order the threads reach them.
            using var pending = new BlockingCollection<(JsonElement Document, long Number)>(4096);
            // Canceled by the caller, or by an indexer that failed: the reader must not wait on a full queue that no
            // indexer will empty any more (with as many bad documents in a row as there are indexers, it did for ever).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var order = new DocumentOrder();
            var indexers = Enumerable.Range(0, Math.Max(1, Environment.ProcessorCount)).Select(_ => Task.Run(() =>
            {
                var builder = new DocumentBuilder(mapping, order, leafPaths, stop.Token);
                try
                {
                    foreach (var (element, number) in pending.GetConsumingEnumerable(stop.Token))
                    {
                        Document document;
                        try { document = builder.Build(element, number); }
                        catch (FormatException ex)
                        {
                            throw new ExportException(ExportErrorCode.InvalidData,
                                $"Document {number} cannot be imported: {ex.Message}. Nothing was imported.", number, ex);
                        }
                        order.Built(number);
                        writer.AddDocument(document);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    stop.Cancel();
                    throw;
                }
                finally { Interlocked.Add(ref malformed, builder.MalformedValues); }
            }, stop.Token)).ToArray();
            try
            {
                foreach (var element in documents)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (stop.IsCancellationRequested) break;
                    try { pending.Add((element, count + 1), stop.Token); }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { break; }
                    if (++count % 10_000 == 0) progress?.Report(count);
                }
            }
            finally
            {
                pending.CompleteAdding();
                try { Task.WaitAll(indexers); }
                catch (AggregateException ex) when (ex.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) is { } first)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
                }
                catch (AggregateException ex) // only cancellations: the caller's, said as such
                {
                    throw new OperationCanceledException("The import was canceled; nothing was imported.", ex, cancellationToken);
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            // -Replace with no documents (an empty file, '[]') would commit an empty index over the one there.
            if (options.Replace && count == 0)
                throw new ExportException(ExportErrorCode.InvalidData,
                    $"The input holds no documents, and -Replace would leave index '{index}' empty; it was left as it was. Check the input file or pipeline.", index);
            // Set every time, the damaged list included: a commit whose records lost their list would be decoded with a new one.
            var commitData = new Dictionary<string, string>(writer.CommitData);
            if (leafPaths is not null) commitData[EmbeddedFields.LeafPathsKey] = leafPaths.ToJson();
            writer.SetCommitData(commitData);
            writer.Commit();
            mapping.Save(folder);
            committed = true;
            progress?.Report(count);
            var total = writer.NumDocs;
            return new ImportResult(index, count, Interlocked.Read(ref malformed), total, DateTimeOffset.UtcNow - started);
        }
        finally
        {
            if (committed) writer.Dispose();
            else writer.Rollback();
        }
    }
}
