using System.IO.Compression;
using ExportsPS.Engine.Storage;

namespace ExportsPS.Engine.Runs;

/// <summary>The way a run's bytes take from its formatter to the store: whole blocks, gzip when asked, then
/// the sha256 and the store's stream, which always run on a thread behind the run's. Compression goes where
/// the CPU is: when formatting costs CPU on the run's thread (misp, stix), it runs on a thread of its own;
/// when formatting is a copy (json, jsonl) or runs on workers (csv), the run's thread compresses, so it does
/// little but deflate. (On 2 cores, a thread that only copied blocks on to the compressor cost 0.3 CPU-s per
/// 1M events in copies and context switches.)</summary>
internal sealed class OutputChain : IDisposable
{
    const int BlockSize = 256 * 1024;
    const int BlocksInFlight = 8;

    readonly PipelinedWriteStream _input;
    readonly GzipMemberStream? _gzip;
    readonly PipelinedWriteStream? _storing; // hashing and the store's stream, on a thread behind compression

    public OutputChain(Stream content, bool gzip, bool formattingCostsCpu, CancellationToken cancellationToken)
    {
        Hashing = new HashingStream(content);
        if (!gzip)
        {
            // Hashing and storing behind formatting: a write into a page cache the kernel is flushing can block
            // for a while (uncompressed csv and jsonl write 190–570 MB per 1M events), and the run goes on meanwhile.
            _input = new PipelinedWriteStream(Hashing, BlockSize, BlocksInFlight, background: true, cancellationToken);
            return;
        }
        Stream compressedTo = formattingCostsCpu
            ? Hashing
            : _storing = new PipelinedWriteStream(Hashing, BlockSize, BlocksInFlight, background: true, cancellationToken);
        _gzip = new GzipMemberStream(compressedTo, CompressionLevel.Fastest);
        _input = new PipelinedWriteStream(_gzip, BlockSize, BlocksInFlight, background: formattingCostsCpu, cancellationToken);
    }

    /// <summary>Where the formatter writes.</summary>
    public Stream Input => _input;

    /// <summary>Counts and hashes what reaches the store.</summary>
    public HashingStream Hashing { get; }

    /// <summary>Once every byte written so far has reached the store's stream, asks <paramref name="canCut"/>; if
    /// it agrees, ends the gzip member, lets those bytes reach the store too and runs <paramref name="atCut"/>:
    /// a cut no later byte crosses. Nothing changes when it refuses (no gzip member is ended for nothing).</summary>
    public void Cut(Func<bool> canCut, Action atCut) =>
        _input.Barrier(() =>
        {
            if (!AtStore(canCut)) return;
            _gzip?.EndMember();
            AtStore(() =>
            {
                Hashing.Flush();
                atCut();
                return true;
            });
        });

    bool AtStore(Func<bool> action)
    {
        if (_storing is null) return action();
        var result = false;
        _storing.Barrier(() => result = action());
        return result;
    }

    /// <summary>Writes everything through to the store's stream (the gzip trailer included) and rethrows what a
    /// background stage failed with (a full disk, a broken upload).</summary>
    public void Complete()
    {
        _input.Complete();
        _gzip?.Dispose();
        _storing?.Complete();
        Hashing.Flush();
    }

    bool _disposed;

    /// <summary>Stops the background stages (waiting for the block each is writing); safe to call twice.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _input.Dispose();
        _storing?.Dispose();
    }
}
