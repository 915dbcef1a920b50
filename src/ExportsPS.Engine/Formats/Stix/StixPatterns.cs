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

    /// <summary>The comparisons joined with AND, leaving out those of a composite value's empty part (null):
    /// <c>= ''</c> would match nothing, and the part that is there still identifies the indicator.</summary>
    static string Pair(params string?[] comparisons) => "[" + string.Join(" AND ", comparisons.OfType<string>()) + "]";

    /// <summary>The pattern for a MISP type and a value <see cref="StixObservables.Normalise"/> returned, or
    /// null when the type has none.</summary>
    internal static string? For(string type, string value)
    {
        var (first, second) = StixObservables.Parts(value);
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
                // Normalise left a port only as digits: an integer literal, unquoted, as the integer property needs.
                var side = type.StartsWith("ip-src", StringComparison.Ordinal) ? "src" : "dst";
                return Pair($"network-traffic:{side}_ref.type = '{AddressType(first!)}'", $"network-traffic:{side}_ref.value = {Quote(first!)}",
                    second is null ? null : $"network-traffic:{side}_port = {second}");
            }
            case "domain":
            case "hostname":
                return Pair($"domain-name:value = {Quote(value)}");
            case "domain|ip":
                return Pair(first is null ? null : $"domain-name:value = {Quote(first)}", second is null ? null : $"domain-name:resolves_to_refs[*].value = {Quote(second)}");
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
                return Pair(first is null ? null : $"file:name = {Quote(first)}", second is null ? null : $"file:hashes.{HashKey(type[9..])} = {Quote(second)}");
            case "mutex":
                return Pair($"mutex:name = {Quote(value)}");
            case "regkey":
                return Pair($"windows-registry-key:key = {Quote(FullHive(value))}");
            case "regkey|value":
                return Pair(first is null ? null : $"windows-registry-key:key = {Quote(FullHive(first))}", second is null ? null : $"windows-registry-key:values[*].data = {Quote(second)}");
            case "AS":
                return Pair($"autonomous-system:number = {value}"); // Normalise left digits only
            case "mac-address":
                return Pair($"mac-addr:value = {Quote(value)}");
            case "user-agent":
                return Pair($"network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {Quote(value)}");
            default:
                return null;
        }
    }
}
