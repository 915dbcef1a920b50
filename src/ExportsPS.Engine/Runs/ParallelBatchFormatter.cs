using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Sources;

namespace ExportsPS.Engine.Runs;

/// <summary>Formats batches on several cores and writes their bytes in the order the batches arrived, so
/// the file is byte-identical to a one-thread run. For formats whose records are independent rows (csv):
/// each worker has its own row writer and buffer; the main formatter writes only the header and the end.
/// Memory: at most <c>2 × workers</c> formatted batches in flight.</summary>
internal sealed class ParallelBatchFormatter : IDisposable
{
    readonly Stream _output;
    readonly Func<Stream, IRecordFormatter> _createRowWriter;
    readonly Queue<(Task<(IRecordFormatter Writer, MemoryStream Buffer)> Formatting, RecordBatch Batch)> _pending = new();
    readonly System.Collections.Concurrent.ConcurrentBag<(IRecordFormatter Writer, MemoryStream Buffer)> _idle = new();
    readonly List<IRecordFormatter> _all = new();
    readonly int _maxPending;
    readonly Action<RecordBatch> _release;

    public ParallelBatchFormatter(Stream output, int workers, Func<Stream, IRecordFormatter> createRowWriter, Action<RecordBatch> release)
    {
        _output = output;
        _createRowWriter = createRowWriter;
        _maxPending = workers * 2;
        _release = release;
    }

    public static int Workers => Math.Max(1, Math.Min(Environment.ProcessorCount, 8));

    public void Add(RecordBatch batch)
    {
        if (_pending.Count >= _maxPending) WriteOldest();
        _pending.Enqueue((Task.Run(() => Format(batch)), batch));
    }

    /// <summary>Formats the batch into an idle worker's buffer; the worker stays busy until its bytes are
    /// written, so buffers are reused instead of copied (a copy per batch is a large-object allocation).</summary>
    (IRecordFormatter Writer, MemoryStream Buffer) Format(RecordBatch batch)
    {
        if (!_idle.TryTake(out var worker))
        {
            var buffer = new MemoryStream(RecordBatch.TargetBytes * 2);
            var writer = _createRowWriter(buffer);
            lock (_all) _all.Add(writer);
            worker = (writer, buffer);
        }
        worker.Buffer.SetLength(0);
        for (var i = 0; i < batch.Count; i++) worker.Writer.WriteRecord(batch[i]);
        worker.Writer.WriteEnd(); // flushes the worker's rows into its buffer
        return worker;
    }

    void WriteOldest()
    {
        var (formatting, batch) = _pending.Dequeue();
        var worker = formatting.GetAwaiter().GetResult();
        _output.Write(worker.Buffer.GetBuffer(), 0, (int)worker.Buffer.Length);
        _idle.Add(worker);
        _release(batch);
    }

    /// <summary>Writes everything still being formatted, in order.</summary>
    public void Drain()
    {
        while (_pending.Count > 0) WriteOldest();
    }

    public void Dispose()
    {
        // A failed run may leave formatting tasks behind: let them finish before their writers go.
        foreach (var (formatting, _) in _pending)
            try { formatting.Wait(); } catch (AggregateException) { }
        _pending.Clear();
        lock (_all) foreach (var writer in _all) writer.Dispose();
    }
}
