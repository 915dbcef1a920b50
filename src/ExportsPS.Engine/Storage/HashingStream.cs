using System.Security.Cryptography;

namespace ExportsPS.Engine.Storage;

/// <summary>A write-only pass-through that counts and SHA-256-hashes every byte on its way to the sink,
/// so the manifest describes exactly the bytes stored without reading them back.</summary>
public sealed class HashingStream : WriteOnlyStream
{
    readonly Stream _inner;
    readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly bool _leaveOpen;

    public HashingStream(Stream inner, bool leaveOpen = true)
    {
        _inner = inner;
        _leaveOpen = leaveOpen;
    }

    public long BytesWritten { get; private set; }
    protected override long Written => BytesWritten;

    /// <summary>Counts and hashes bytes already in the sink (a continued partial file) without writing them.</summary>
    public void Prime(Stream existing)
    {
        var buffer = new byte[1 << 16];
        int read;
        while ((read = existing.Read(buffer)) > 0)
        {
            _hash.AppendData(buffer.AsSpan(0, read));
            BytesWritten += read;
        }
    }

    public string HashHex() => Convert.ToHexString(_hash.GetCurrentHash()).ToLowerInvariant();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        _inner.Write(buffer);
        BytesWritten += buffer.Length;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _hash.AppendData(buffer.Span);
        await _inner.WriteAsync(buffer, cancellationToken);
        BytesWritten += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => _inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);


    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen) _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
