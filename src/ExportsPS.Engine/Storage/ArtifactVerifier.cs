using System.Security.Cryptography;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Storage;

/// <summary>Reads an artifact while hashing it and, at the end, checks the hash against the manifest.
/// A re-run may replace the file between reading the manifest and opening the file; then the hash
/// matches the newer manifest instead, which is re-read before declaring the file corrupt.</summary>
public sealed class ArtifactVerifier : ReadOnlyStream
{
    readonly Stream _inner;
    readonly IArtifactStore _store;
    readonly string _exportName;
    readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    string? _verified;

    ArtifactVerifier(Stream inner, IArtifactStore store, string exportName, ArtifactManifest manifest)
    {
        _inner = inner;
        _store = store;
        _exportName = exportName;
        Manifest = manifest;
    }

    /// <summary>The manifest the bytes were verified against (may be newer than the one opened with).</summary>
    public ArtifactManifest Manifest { get; private set; }

    public string VerifiedSha256 => _verified ?? throw new InvalidOperationException("the artifact has not been read to its end");

    public static ArtifactVerifier Open(IArtifactStore store, string exportName, ArtifactManifest manifest, ArtifactKey? key = null) =>
        new(store.OpenRead(exportName, manifest, key), store, exportName, manifest);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        Account(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken);
        Account(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    void Account(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0) { _hash.AppendData(bytes); return; }
        if (_verified is null) Verify();
    }

    /// <summary>Reads whatever the consumer left unread (a format reader may stop early) and verifies;
    /// <paramref name="cancellationToken"/> stops it between blocks (a multi-GB file read before the first record).</summary>
    public void DrainAndVerify(CancellationToken cancellationToken = default)
    {
        var buffer = new byte[1 << 16];
        while (Read(buffer, 0, buffer.Length) > 0) cancellationToken.ThrowIfCancellationRequested();
    }

    void Verify()
    {
        var actual = Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();
        if (actual == Manifest.Sha256) { _verified = actual; return; }
        // A concurrent re-run may have swapped the file after we read the manifest: its manifest follows
        // within moments of the file, so look again briefly before calling the file corrupt.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var current = _store.ReadManifest(_exportName);
            if (current is not null && current.Sha256 == actual) { Manifest = current; _verified = actual; return; }
            Thread.Sleep(100);
        }
        throw new ExportException(ExportErrorCode.ArtifactCorrupt,
            $"The file of export '{_exportName}' does not match its manifest (sha256 {actual}, expected {Manifest.Sha256}). " +
            "It was changed or damaged after the export; re-run the export with Start-Export.", _exportName);
    }

    public override long Length => _inner.Length;
    public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}
