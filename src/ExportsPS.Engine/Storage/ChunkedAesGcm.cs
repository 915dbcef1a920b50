using System.Buffers.Binary;
using System.Security.Cryptography;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Storage;

/// <summary>Encryption at rest for local artifacts: AES-256-GCM over 64 KiB chunks, so files of any size
/// stream through constant memory and every chunk is authenticated. Layout: "EXPSGCM1", an 8-byte random
/// nonce prefix, then chunks of [length:4][last:1][ciphertext][tag:16]. A chunk's nonce is the prefix plus
/// its index; its index and last-flag are authenticated data, so reordering, dropping, appending or
/// truncating chunks all fail authentication.</summary>
public static class ChunkedAesGcm
{
    public const string Name = "aes-256-gcm";
    const int ChunkSize = 64 * 1024;
    const int TagSize = 16;
    static readonly byte[] Magic = "EXPSGCM1"u8.ToArray();

    static void Nonce(Span<byte> nonce, ReadOnlySpan<byte> prefix, uint index)
    {
        prefix.CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], index);
    }

    static void Aad(Span<byte> aad, uint index, bool last)
    {
        BinaryPrimitives.WriteUInt32BigEndian(aad, index);
        aad[4] = last ? (byte)1 : (byte)0;
    }

    /// <summary>Encrypts what is written into <paramref name="inner"/>; <see cref="EncryptingStream.Finish"/> writes the last chunk.</summary>
    public sealed class EncryptingStream : WriteOnlyStream
    {
        readonly Stream _inner;
        readonly AesGcm _aes;
        readonly byte[] _prefix = RandomNumberGenerator.GetBytes(8);
        readonly byte[] _plain = new byte[ChunkSize];
        readonly byte[] _cipher = new byte[ChunkSize];
        int _length;
        uint _index;
        bool _finished;
        long _written;

        public EncryptingStream(Stream inner, ArtifactKey key)
        {
            _inner = inner;
            _aes = new AesGcm(key.Bytes, TagSize);
            _inner.Write(Magic);
            _inner.Write(_prefix);
        }


        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_finished) throw new InvalidOperationException("the encrypted artifact is already finished");
            while (!buffer.IsEmpty)
            {
                var take = Math.Min(buffer.Length, ChunkSize - _length);
                buffer[..take].CopyTo(_plain.AsSpan(_length));
                _length += take;
                _written += take;
                buffer = buffer[take..];
                if (_length == ChunkSize) WriteChunk(last: false);
            }
        }

        void WriteChunk(bool last)
        {
            Span<byte> nonce = stackalloc byte[12];
            Span<byte> aad = stackalloc byte[5];
            Span<byte> tag = stackalloc byte[TagSize];
            Span<byte> header = stackalloc byte[5];
            Nonce(nonce, _prefix, _index);
            Aad(aad, _index, last);
            _aes.Encrypt(nonce, _plain.AsSpan(0, _length), _cipher.AsSpan(0, _length), tag, aad);
            BinaryPrimitives.WriteInt32BigEndian(header, _length);
            header[4] = aad[4];
            _inner.Write(header);
            _inner.Write(_cipher, 0, _length);
            _inner.Write(tag);
            _index++;
            _length = 0;
        }

        /// <summary>Writes the final (possibly empty) chunk; without it the file reads as truncated.</summary>
        public void Finish()
        {
            if (_finished) return;
            WriteChunk(last: true);
            _finished = true;
            CryptographicOperations.ZeroMemory(_plain);
        }

        protected override long Written => _written;
        public override void Flush() => _inner.Flush();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _aes.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Decrypts and authenticates chunk by chunk; any tampering or truncation throws ArtifactCorrupt.</summary>
    public sealed class DecryptingStream : ReadOnlyStream
    {
        readonly Stream _inner;
        readonly AesGcm _aes;
        readonly byte[] _prefix = new byte[8];
        readonly byte[] _cipher = new byte[ChunkSize];
        readonly byte[] _plain = new byte[ChunkSize];
        int _offset;
        int _length;
        uint _index;
        bool _sawLast;
        readonly string _exportName;

        public DecryptingStream(Stream inner, ArtifactKey key, string exportName)
        {
            _inner = inner;
            _exportName = exportName;
            _aes = new AesGcm(key.Bytes, TagSize);
            Span<byte> magic = stackalloc byte[8];
            if (!ReadFully(magic) || !magic.SequenceEqual(Magic) || !ReadFully(_prefix))
                throw Corrupt("it does not start with the encrypted-artifact header");
        }

        ExportException Corrupt(string why) => new(ExportErrorCode.ArtifactCorrupt,
            $"The encrypted file of export '{_exportName}' cannot be decrypted: {why}. It was changed or damaged; re-run the export with Start-Export.", _exportName);

        bool ReadFully(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = _inner.Read(buffer[total..]);
                if (read == 0) return false;
                total += read;
            }
            return true;
        }

        bool NextChunk()
        {
            if (_sawLast) return false;
            Span<byte> header = stackalloc byte[5];
            if (!ReadFully(header)) throw Corrupt("it ends before its last chunk (truncated)");
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            if (length < 0 || length > ChunkSize || header[4] > 1) throw Corrupt("a chunk header is invalid");
            Span<byte> tag = stackalloc byte[TagSize];
            if (!ReadFully(_cipher.AsSpan(0, length)) || !ReadFully(tag)) throw Corrupt("it ends inside a chunk (truncated)");
            Span<byte> nonce = stackalloc byte[12];
            Span<byte> aad = stackalloc byte[5];
            var last = header[4] == 1;
            Nonce(nonce, _prefix, _index);
            Aad(aad, _index, last);
            try { _aes.Decrypt(nonce, _cipher.AsSpan(0, length), tag, _plain.AsSpan(0, length), aad); }
            catch (AuthenticationTagMismatchException) { throw Corrupt($"chunk {_index} fails authentication"); }
            _index++;
            _offset = 0;
            _length = length;
            _sawLast = last;
            if (last)
            {
                Span<byte> extra = stackalloc byte[1];
                if (_inner.Read(extra) > 0) throw Corrupt("data follows its last chunk");
            }
            return true;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (_offset == _length)
                if (!NextChunk()) return 0;
            var take = Math.Min(buffer.Length, _length - _offset);
            _plain.AsSpan(_offset, take).CopyTo(buffer);
            _offset += take;
            return take;
        }


        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _aes.Dispose();
                _inner.Dispose();
                CryptographicOperations.ZeroMemory(_plain);
            }
            base.Dispose(disposing);
        }
    }
}
