using System.Collections.Concurrent;

namespace ExportsPS.Engine.Storage;

/// <summary>A write-only stream that writes to the inner stream (compression, hashing, the file) in whole
/// blocks. With <c>background</c>, full blocks are handed to a background thread, so formatting and
/// compressing run on different cores; memory is bounded: <c>capacity</c> blocks in flight plus the one
/// being filled. Without it, blocks are written on the calling thread: worth it when formatting is only a
/// copy, where the second thread would add a copy and a context switch per block for nothing.</summary>
public sealed class PipelinedWriteStream : WriteOnlyStream
{
    readonly Stream _inner;
    readonly BlockingCollection<(byte[]? Block, int Length, Action? Barrier)> _full;
    readonly ConcurrentBag<byte[]> _free = new();
    readonly int _blockSize;
    readonly CancellationTokenSource _abort;
    readonly CancellationToken _canceled;
    readonly Task? _writer; // null: blocks are written on the calling thread
    byte[] _current;
    int _used;

    public PipelinedWriteStream(Stream inner, int blockSize, int capacity, bool background, CancellationToken cancellationToken)
    {
        _inner = inner;
        _blockSize = blockSize;
        _current = new byte[blockSize];
        _full = new BlockingCollection<(byte[]?, int, Action?)>(capacity);
        _canceled = cancellationToken;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (background)
            _writer = Task.Factory.StartNew(WriteBlocks, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    void WriteBlocks()
    {
        try
        {
            foreach (var (block, length, barrier) in _full.GetConsumingEnumerable(_abort.Token))
            {
                if (barrier is not null) { barrier(); continue; }
                _inner.Write(block!, 0, length);
                _free.Add(block!);
            }
        }
        catch
        {
            _abort.Cancel(); // unblock the producer; it rethrows our exception from Complete/Write
            throw;
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var take = Math.Min(buffer.Length, _blockSize - _used);
            buffer[..take].CopyTo(_current.AsSpan(_used));
            _used += take;
            buffer = buffer[take..];
            if (_used == _blockSize) Hand();
        }
    }

    public override void WriteByte(byte value)
    {
        _current[_used++] = value;
        if (_used == _blockSize) Hand();
    }

    void Hand()
    {
        if (_writer is null)
        {
            _inner.Write(_current, 0, _used);
            _used = 0;
        }
        else Enqueue((_current, _used, null));
    }

    void Enqueue((byte[]?, int, Action?) item)
    {
        try { _full.Add(item, _abort.Token); }
        catch (OperationCanceledException) when (!_canceled.IsCancellationRequested)
        {
            // Not a cancellation: the writer failed (disk full, broken upload). Surface its exception.
            RethrowWriterFailure();
            throw;
        }
        if (item.Item1 is null) return;
        _current = _free.TryTake(out var block) ? block : new byte[_blockSize];
        _used = 0;
    }

    /// <summary>Waits for the background writer to stop and throws what it failed with, if anything.</summary>
    void RethrowWriterFailure()
    {
        _writer!.ContinueWith(_ => { }, TaskScheduler.Default).Wait();
        _writer.GetAwaiter().GetResult();
    }

    /// <summary>Hands over everything written so far, then runs <paramref name="atBoundary"/> on the background
    /// thread once all of it has reached the inner stream, and waits for it: a cut that no later byte crosses.</summary>
    public void Barrier(Action atBoundary)
    {
        if (_used > 0) Hand();
        if (_writer is null)
        {
            atBoundary();
            return;
        }
        var done = new ManualResetEventSlim(); // not disposed: the writer thread may still be leaving Set()
        Exception? failure = null;
        Enqueue((null, 0, () =>
        {
            try { atBoundary(); }
            catch (Exception ex) { failure = ex; }
            finally { done.Set(); }
        }));
        WaitHandle.WaitAny([done.WaitHandle, _abort.Token.WaitHandle]);
        if (!done.IsSet)
        {
            RethrowWriterFailure();
            _canceled.ThrowIfCancellationRequested();
            throw new OperationCanceledException(_abort.Token);
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>Writes what is left and waits until the background thread has written everything.
    /// Rethrows the writer's failure (a full disk, a broken upload).</summary>
    public void Complete()
    {
        if (_used > 0) Hand();
        _full.CompleteAdding();
        _writer?.GetAwaiter().GetResult();
        _inner.Flush();
    }

    /// <summary>No-op: data is flushed in blocks and by <see cref="Complete"/>, never partially.</summary>
    public override void Flush() { }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_full.IsAddingCompleted) { _abort.Cancel(); _full.CompleteAdding(); }
            try { _writer?.Wait(); } catch (AggregateException) { /* reported by Complete, or the run is failing anyway */ }
            _full.Dispose();
            _abort.Dispose();
        }
        base.Dispose(disposing);
    }

}
