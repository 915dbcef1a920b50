using System.Globalization;
using System.Text;

namespace ExportsPS.Engine.Formats.Stix;

/// <summary>STIX 2.1 patterning for MISP attribute types, following misp-stix's conventions
/// (e.g. ip-dst → <c>[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '…']</c>).
/// Every value goes through <see cref="Quote"/>, so quotes and backslashes cannot break a pattern.</summary>
public static class StixPatterns
{
    /// <summary>A STIX string literal: backslash and single quote escaped.</summary>
    public static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            if (c is '\\' or '\'') text.Append('\\');
            text.Append(c);
        }
        return text.Append('\'').ToString();
    }

    public static string HashKey(string misp) => misp switch
    {
        "md5" => "MD5", "sha1" => "'SHA-1'", "sha256" => "'SHA-256'", "sha512" => "'SHA-512'", _ => misp.ToUpperInvariant(),
    };

    public static string HashName(string misp) => misp switch
    {
        "md5" => "MD5", "sha1" => "SHA-1", "sha256" => "SHA-256", "sha512" => "SHA-512", _ => misp.ToUpperInvariant(),
    };

    static readonly (string Short, string Full)[] Hives =
    [
        ("HKLM", "HKEY_LOCAL_MACHINE"), ("HKCU", "HKEY_CURRENT_USER"), ("HKCR", "HKEY_CLASSES_ROOT"),
        ("HKCC", "HKEY_CURRENT_CONFIG"), ("HKU", "HKEY_USERS"),
    ];

    /// <summary>STIX requires the full hive name (HKEY_LOCAL_MACHINE\…), MISP data often abbreviates it.</summary>
    public static string FullHive(string key)
    {
        foreach (var (abbreviation, full) in Hives)
            if (key.StartsWith(abbreviation, StringComparison.OrdinalIgnoreCase) &&
                (key.Length == abbreviation.Length || key[abbreviation.Length] is '\\' or '/'))
                return full + key[abbreviation.Length..];
        return key;
    }

    static string AddressType(string ip) => ip.Contains(':') ? "ipv6-addr" : "ipv4-addr";

    static string Pair(params string[] comparisons) => "[" + string.Join(" AND ", comparisons) + "]";

    /// <summary>The pattern for a MISP type and value, or null when the type has none.</summary>
    public static string? For(string type, string value)
    {
        var parts = value.Split('|', 2);
        string First() => parts[0];
        string Second() => parts.Length > 1 ? parts[1] : "";
        switch (type)
        {
            case "ip-src":
            case "ip-dst":
            {
                var side = type == "ip-src" ? "src" : "dst";
                return Pair($"network-traffic:{side}_ref.type = '{AddressType(value)}'", $"network-traffic:{side}_ref.value = {Quote(value)}");
            }
            case "ip-src|port":
            case "ip-dst|port":
            {
                var side = type.StartsWith("ip-src", StringComparison.Ordinal) ? "src" : "dst";
                var port = int.TryParse(Second(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p.ToString(CultureInfo.InvariantCulture) : Quote(Second());
                return Pair($"network-traffic:{side}_ref.type = '{AddressType(First())}'", $"network-traffic:{side}_ref.value = {Quote(First())}",
                    $"network-traffic:{side}_port = {port}");
            }
            case "domain":
            case "hostname":
                return Pair($"domain-name:value = {Quote(value)}");
            case "domain|ip":
                return Pair($"domain-name:value = {Quote(First())}", $"domain-name:resolves_to_refs[*].value = {Quote(Second())}");
            case "url":
            case "uri":
            case "link":
                return Pair($"url:value = {Quote(value)}");
            case "email-src":
                return Pair($"email-message:from_ref.value = {Quote(value)}");
            case "email-dst":
                return Pair($"email-message:to_refs[*].value = {Quote(value)}");
            case "email-subject":
                return Pair($"email-message:subject = {Quote(value)}");
            case "md5":
            case "sha1":
            case "sha256":
            case "sha512":
                return Pair($"file:hashes.{HashKey(type)} = {Quote(value)}");
            case "filename":
                return Pair($"file:name = {Quote(value)}");
            case "filename|md5":
            case "filename|sha1":
            case "filename|sha256":
            case "filename|sha512":
                return Pair($"file:name = {Quote(First())}", $"file:hashes.{HashKey(type[9..])} = {Quote(Second())}");
            case "mutex":
                return Pair($"mutex:name = {Quote(value)}");
            case "regkey":
                return Pair($"windows-registry-key:key = {Quote(FullHive(value))}");
            case "regkey|value":
                return Pair($"windows-registry-key:key = {Quote(FullHive(First()))}", $"windows-registry-key:values[*].data = {Quote(Second())}");
            case "AS":
                return long.TryParse(value.StartsWith("AS", StringComparison.OrdinalIgnoreCase) ? value[2..] : value, out var asn)
                    ? Pair($"autonomous-system:number = {asn.ToString(CultureInfo.InvariantCulture)}") : null;
            case "mac-address":
                return Pair($"mac-addr:value = {Quote(value.ToLowerInvariant())}");
            case "user-agent":
                return Pair($"network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {Quote(value)}");
            default:
                return null;
        }
    }
}
