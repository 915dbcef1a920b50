using System.Net;
using System.Security;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Storage;

namespace ExportsPS.Internal;

/// <summary>-EncryptionKey as users hold it: the SecureString New-Export -Encrypt returned, or the key in base64.</summary>
internal static class EncryptionKeys
{
    public static ArtifactKey? From(object? value) => value switch
    {
        null => null,
        System.Management.Automation.PSObject wrapped => From(wrapped.BaseObject),
        SecureString secure => ArtifactKey.FromBase64(new NetworkCredential("", secure).Password),
        string base64 => ArtifactKey.FromBase64(base64),
        _ => throw new ExportException(ExportErrorCode.InvalidOption,
            $"-EncryptionKey takes a SecureString or a base64 string, not {value.GetType().Name}."),
    };

    public static SecureString ToSecureString(ArtifactKey key) => new NetworkCredential("", key.Reveal()).SecurePassword;
}
