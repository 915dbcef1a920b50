using System.IO.Compression;

namespace ExportsPS.Engine.Storage;

/// <summary>Gzip output as a series of members (RFC 1952 §2.2: a file may hold several, and gzip, zcat and
/// .NET's GZipStream read them as one stream). <see cref="EndMember"/> closes the current member so the
/// bytes so far form a complete gzip file: the cut a resumable run checkpoints at, and appends after.</summary>
public sealed class GzipMemberStream : WriteOnlyStream
{
    readonly Stream _inner;
    readonly CompressionLevel _level;
    GZipStream? _member;

    public GzipMemberStream(Stream inner, CompressionLevel level)
    {
        _inner = inner;
        _level = level;
    }

    // GZipStream writes nothing for no input, and a 0-byte file is not gzip (gzip -t fails on it): an empty
    // result gets this empty member (header, an empty final deflate block, CRC 0, size 0).
    static readonly byte[] EmptyMember = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    bool _wrote;

    GZipStream Member => _member ??= new GZipStream(_inner, _level, leaveOpen: true);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty) return;
        _wrote = true;
        Member.Write(buffer);
    }

    /// <summary>Writes the current member's trailer; the next write starts a new member.</summary>
    public void EndMember()
    {
        _member?.Dispose();
        _member = null;
    }

    public override void Flush() => _member?.Flush();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            EndMember();
            if (!_wrote) _inner.Write(EmptyMember);
        }
        base.Dispose(disposing);
    }

}
