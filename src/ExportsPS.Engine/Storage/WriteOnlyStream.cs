namespace ExportsPS.Engine.Storage;

/// <summary>The base of the write path's streams (hashing, gzip members, pipelining, encryption, upload
/// parts): forward-only, never read or sought. A subclass implements <see cref="Write(ReadOnlySpan{byte})"/>
/// and, where it counts, <see cref="Written"/>.</summary>
public abstract class WriteOnlyStream : Stream
{
    /// <summary>Bytes written so far, where the stream counts them (Length and Position report it).</summary>
    protected virtual long Written => throw new NotSupportedException();

    public abstract override void Write(ReadOnlySpan<byte> buffer);
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Flush() { }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
