namespace ExportsPS.Engine.Storage;

/// <summary>The base of the read path's streams (decryption, sha256 verification, an S3 download):
/// forward-only, never written or sought; the twin of <see cref="WriteOnlyStream"/>. A subclass implements
/// Read and, where it knows them, <see cref="Length"/> and <see cref="Position"/>.</summary>
public abstract class ReadOnlyStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
