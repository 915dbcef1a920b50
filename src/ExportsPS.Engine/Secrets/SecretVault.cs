using System.Security.Cryptography;
using System.Text;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Secrets;

/// <summary>Encrypts secrets (passwords, API keys, S3 secret keys) before they reach the catalog or any
/// config file, with AES-256-GCM under a master key that lives outside the catalog: <c>$EXPORTSPS_MASTER_KEY</c>
/// (base64, 32 bytes) when set — e.g. injected by a service manager — otherwise <c>keys/master.key</c> in
/// the data folder, created owner-only (0600). Copying the catalog alone reveals no secret.</summary>
public sealed class SecretVault
{
    public const string MasterKeyVariable = "EXPORTSPS_MASTER_KEY";
    const string Prefix = "enc:v1:";
    readonly byte[] _key;

    public SecretVault(ExportsHome home) => _key = LoadOrCreateKey(home);

    public static bool IsProtected(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Stands for a secret in a registration that is validated before it is confirmed: the secret is
    /// protected only after confirmation, so -WhatIf creates no master key. Never stored (Unprotect refuses it).</summary>
    public const string NotYetProtected = Prefix;

    public string Protect(string secret)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var cipher = new byte[plain.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(_key, 16)) aes.Encrypt(nonce, plain, cipher, tag);
        CryptographicOperations.ZeroMemory(plain);
        return Prefix + Convert.ToBase64String([.. nonce, .. tag, .. cipher]);
    }

    public string Unprotect(string protectedValue)
    {
        if (!IsProtected(protectedValue) || protectedValue == NotYetProtected)
            throw new ExportException(ExportErrorCode.InvalidOption, "A stored secret is not in the protected format; register it again.");
        var bytes = Convert.FromBase64String(protectedValue[Prefix.Length..]);
        var plain = new byte[bytes.Length - 28];
        try
        {
            using var aes = new AesGcm(_key, 16);
            aes.Decrypt(bytes.AsSpan(0, 12), bytes.AsSpan(28), bytes.AsSpan(12, 16), plain);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"A stored secret cannot be decrypted: the master key changed (set ${MasterKeyVariable} to the key it was saved with, or register the secret again).",
                null, ex);
        }
        return Encoding.UTF8.GetString(plain);
    }

    static byte[] LoadOrCreateKey(ExportsHome home)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(MasterKeyVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            byte[] key;
            try { key = Convert.FromBase64String(fromEnvironment.Trim()); }
            catch (FormatException ex)
            {
                throw new ExportException(ExportErrorCode.InvalidOption, $"${MasterKeyVariable} is not base64. Generate one with: openssl rand -base64 32", null, ex);
            }
            if (key.Length != 32)
                throw new ExportException(ExportErrorCode.InvalidOption, $"${MasterKeyVariable} must decode to 32 bytes, not {key.Length}.");
            return key;
        }
        var folder = Path.Combine(home.Root, "keys");
        var path = Path.Combine(folder, "master.key");
        if (File.Exists(path)) return Convert.FromBase64String(File.ReadAllText(path).Trim());
        Directory.CreateDirectory(folder);
        var created = RandomNumberGenerator.GetBytes(32);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // owner-only
        using (var stream = new FileStream(temp, options))
            stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(created)));
        try { File.Move(temp, path, overwrite: false); }
        catch (IOException) { File.Delete(temp); return Convert.FromBase64String(File.ReadAllText(path).Trim()); } // another process won
        return created;
    }
}
