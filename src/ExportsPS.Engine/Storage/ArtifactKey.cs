using System.Security.Cryptography;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Storage;

/// <summary>A 256-bit customer key for one export's artifact (SSE-C on S3). The engine never stores it:
/// only its <see cref="Fingerprint"/> (the SSE-C key MD5, base64) is kept, so a wrong key is named as
/// such instead of surfacing as an opaque storage error.</summary>
public sealed class ArtifactKey
{
    readonly byte[] _key;

    ArtifactKey(byte[] key)
    {
        if (key.Length != 32)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"An encryption key must be 256 bits (32 bytes, 44 base64 characters), not {key.Length} bytes. Generate one with: openssl rand -base64 32");
        _key = key;
        Fingerprint = Convert.ToBase64String(MD5.HashData(key));
    }

    public string Fingerprint { get; }

    internal ReadOnlySpan<byte> Bytes => _key;
    internal string Base64 => Convert.ToBase64String(_key);

    public static ArtifactKey Generate() => new(RandomNumberGenerator.GetBytes(32));

    public static ArtifactKey FromBase64(string base64)
    {
        byte[] bytes;
        try { bytes = Convert.FromBase64String(base64.Trim()); }
        catch (FormatException ex)
        {
            throw new ExportException(ExportErrorCode.InvalidOption,
                "The encryption key is not base64. Pass the key New-Export -Encrypt returned, or 32 random bytes in base64 (openssl rand -base64 32).", null, ex);
        }
        return new ArtifactKey(bytes);
    }

    /// <summary>The key as base64, for handing to the caller once; the engine itself never persists it.</summary>
    public string Reveal() => Base64;

    /// <summary>Checks the key against the fingerprint an artifact was written with.</summary>
    public static void Check(ArtifactKey? key, string? expectedFingerprint, string exportName)
    {
        if (expectedFingerprint is null) return;
        if (key is null)
            throw new ExportException(ExportErrorCode.EncryptionKeyRequired,
                $"Export '{exportName}' is encrypted with its own key: pass it with -EncryptionKey (the key New-Export -Encrypt returned).", exportName);
        if (!CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(key.Fingerprint), Convert.FromBase64String(expectedFingerprint)))
            throw new ExportException(ExportErrorCode.EncryptionKeyMismatch,
                $"The key does not match export '{exportName}' (its key fingerprint is {expectedFingerprint}, this key's is {key.Fingerprint}). " +
                "Use the key New-Export -Encrypt returned for this export.", exportName);
    }

    public override string ToString() => $"key {Fingerprint}";
}
