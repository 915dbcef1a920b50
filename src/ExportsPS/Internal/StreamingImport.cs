using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Sources.Embedded;

namespace ExportsPS.Internal;

/// <summary>An import into an embedded index that runs on a worker thread while the pipeline feeds it
/// documents and files one at a time, so a pipeline of millions of objects is never held in memory. Progress
/// is written from the pipeline thread only, when a cmdlet hands it over, and at most a few times a second.</summary>
internal sealed class StreamingImport : IDisposable
{
    /// <summary>A file to read on the import's thread, where its documents are streamed from disk.</summary>
    sealed record FileItem(string Path);

    static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    readonly BlockingCollection<object> _queue = new(boundedCapacity: 1024);
    readonly CancellationTokenSource _stop;
    readonly Task<ImportResult> _import;
    readonly ProgressCounter _counter = new();
    readonly ProgressRecord _progress;
    readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
    long _shown = -1;

    StreamingImport(ExportService service, string index, IEnumerable<JsonElement>? documents, ImportOptions options, CancellationToken stopping)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _progress = new ProgressRecord(4, $"Importing into '{index}'", "Starting");
        var input = documents ?? Drain(_stop.Token);
        _import = Task.Run(() => service.Import(index, input, options, _counter, _stop.Token));
    }

    /// <summary>Starts an import that reads what <see cref="AddDocument"/> and <see cref="AddFile"/> hand it.</summary>
    public static StreamingImport Start(ExportService service, string index, ImportOptions options, CancellationToken stopping) =>
        new(service, index, null, options, stopping);

    /// <summary>Imports <paramref name="documents"/>, writing progress while waiting; the result once committed.</summary>
    public static ImportResult Run(Cmdlet cmdlet, ExportService service, string index, IEnumerable<JsonElement> documents,
        ImportOptions options, CancellationToken stopping)
    {
        using var import = new StreamingImport(service, index, documents, options, stopping);
        return import.Complete(cmdlet);
    }

    public void AddDocument(JsonElement document) => Add(document);

    public void AddFile(string path) => Add(new FileItem(path));

    void Add(object item)
    {
        // The import stops reading when it fails (a bad document, another import holding the index): its error is the
        // answer, given at the next item rather than when the queue is full (a slow pipeline might never fill it).
        do
        {
            if (_import.IsCompleted) _import.GetAwaiter().GetResult();
        } while (!_queue.TryAdd(item, 100, _stop.Token));
    }

    IEnumerable<JsonElement> Drain(CancellationToken cancellationToken)
    {
        foreach (var item in _queue.GetConsumingEnumerable(cancellationToken))
        {
            if (item is FileItem file)
                foreach (var document in EmbeddedImporter.ReadFile(file.Path, cancellationToken)) yield return document;
            else yield return (JsonElement)item;
        }
    }

    /// <summary>Writes progress if the import has moved on since the last record and enough time has passed.</summary>
    public void ShowProgress(Cmdlet cmdlet)
    {
        if (_sinceProgress.Elapsed < ProgressInterval) return;
        _sinceProgress.Restart();
        var count = _counter.Value;
        if (count == _shown) return;
        _shown = count;
        _progress.StatusDescription = $"{count:N0} documents";
        cmdlet.WriteProgress(_progress);
    }

    /// <summary>Ends the input and waits for the commit, writing progress meanwhile.</summary>
    public ImportResult Complete(Cmdlet cmdlet)
    {
        if (!_queue.IsAddingCompleted) _queue.CompleteAdding();
        while (!_import.Wait(200)) ShowProgress(cmdlet);
        var result = _import.GetAwaiter().GetResult();
        if (_shown >= 0)
            cmdlet.WriteProgress(new ProgressRecord(_progress.ActivityId, _progress.Activity, $"{result.Documents:N0} documents") { RecordType = ProgressRecordType.Completed });
        return result;
    }

    /// <summary>An import the pipeline abandoned (a terminating error, Ctrl+C) is canceled, and rolled back
    /// before this returns, so the index is free for the next command.</summary>
    public void Dispose()
    {
        if (!_import.IsCompleted)
        {
            _stop.Cancel();
            try { _import.Wait(); }
            catch (AggregateException) { } // the import's own error was reported, or the pipeline has already failed
        }
        _stop.Dispose();
        _queue.Dispose();
    }

    sealed class ProgressCounter : IProgress<long>
    {
        long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Report(long value) => Interlocked.Exchange(ref _value, value);
    }
}
