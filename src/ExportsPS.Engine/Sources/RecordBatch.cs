using System.Collections.Concurrent;

namespace ExportsPS.Engine.Sources;

/// <summary>Many records' raw <c>_source</c> bytes in one buffer, so the read → format hand-off costs one
/// queue operation per batch instead of one allocation per record. Batches are recycled through a pool.</summary>
public sealed class RecordBatch
{
    public const int TargetBytes = 256 * 1024;
    public const int MaxRecords = 1024;

    byte[] _bytes = new byte[TargetBytes];
    readonly int[] _ends = new int[MaxRecords];
    int _length;

    public int Count { get; private set; }
    /// <summary>The slice that read the batch and the raw JSON sort values of its last record: once the
    /// writer has written the batch, the slice can be continued after that position (see Runs.ResumePoint).</summary>
    public int Slice { get; set; }
    public byte[]? Position { get; set; }
    public bool IsFull => Count == MaxRecords || _length >= TargetBytes;

    public void Add(ReadOnlySpan<byte> record)
    {
        if (_length + record.Length > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + record.Length));
        record.CopyTo(_bytes.AsSpan(_length));
        _length += record.Length;
        _ends[Count++] = _length;
    }

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            var start = index == 0 ? 0 : _ends[index - 1];
            return _bytes.AsSpan(start, _ends[index] - start);
        }
    }

    public void Clear()
    {
        Count = 0;
        _length = 0;
        Slice = 0;
        Position = null;
        // A batch that grew for one huge document should not pin that memory forever.
        if (_bytes.Length > 4 * TargetBytes) _bytes = new byte[TargetBytes];
    }
}

/// <summary>The bounded hand-off between the reading thread(s) and the writing thread. Memory is
/// bounded by capacity × batch size, whatever the result size.</summary>
public sealed class RecordBatchQueue : IDisposable
{
    readonly BlockingCollection<RecordBatch> _full;
    readonly ConcurrentBag<RecordBatch> _free = new();
    readonly CancellationToken _token;

    public RecordBatchQueue(int capacity, CancellationToken token)
    {
        _full = new BlockingCollection<RecordBatch>(capacity);
        _token = token;
    }

    public CancellationToken Token => _token;

    public RecordBatch Rent()
    {
        if (_free.TryTake(out var batch)) return batch;
        return new RecordBatch();
    }

    public void Publish(RecordBatch batch)
    {
        if (batch.Count == 0) { Return(batch); return; }
        _full.Add(batch, _token);
    }

    public void Return(RecordBatch batch)
    {
        batch.Clear();
        _free.Add(batch);
    }

    /// <summary>Producers call this once every reader is done.</summary>
    public void CompleteAdding() => _full.CompleteAdding();

    public IEnumerable<RecordBatch> Consume() => _full.GetConsumingEnumerable(_token);

    public void Dispose() => _full.Dispose();
}
