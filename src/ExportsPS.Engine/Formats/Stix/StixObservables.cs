using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ExportsPS.Engine.Formats.Stix;

/// <summary>A STIX cyber-observable object to write. Ids are UUIDv5 over the observable's identifying
/// value (STIX 2.1's SCO namespace), so the same address or file is one object across attributes.</summary>
internal sealed class Observable(string type, string identity, Action<Utf8JsonWriter> properties)
{
    public string Id { get; } = StixFormat.DeterministicId(type, type + ":" + identity);

    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteString("spec_version", "2.1");
        json.WriteString("id", Id);
        properties(json);
        json.WriteEndObject();
    }
}

/// <summary>The observables misp-stix uses for each MISP type (for attributes that are not to_ids).
/// user-agent has no observable here: STIX carries it in network-traffic's http-request-ext, whose
/// dictionary rules the schema validator used in tests rejects, so it goes to x-misp-attribute.</summary>
internal static partial class StixObservables
{
    [GeneratedRegex("^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$")]
    private static partial Regex MacAddress();

    static Observable Address(string ip) =>
        new(ip.Contains(':') ? "ipv6-addr" : "ipv4-addr", ip, j => j.WriteString("value", ip));

    static Observable Traffic(string side, Observable address, int? port, string identity) =>
        new("network-traffic", $"{side}:{identity}", j =>
        {
            j.WriteString(side + "_ref", address.Id);
            if (port is { } p) j.WriteNumber(side + "_port", p);
            j.WriteStartArray("protocols");
            j.WriteStringValue(address.Id.StartsWith("ipv6", StringComparison.Ordinal) ? "ipv6" : "ipv4");
            j.WriteEndArray();
        });

    static Observable File(string? name, string? hashType, string? hash) =>
        new("file", $"{name}|{hashType}|{hash}", j =>
        {
            if (hashType is not null && hash is not null)
            {
                j.WriteStartObject("hashes");
                j.WriteString(StixPatterns.HashName(hashType), hash);
                j.WriteEndObject();
            }
            if (name is not null) j.WriteString("name", name);
        });

    public static List<Observable>? For(string type, string value, string source)
    {
        var parts = value.Split('|', 2);
        var first = parts[0];
        var second = parts.Length > 1 ? parts[1] : null;
        switch (type)
        {
            case "ip-src":
            case "ip-dst":
            {
                var address = Address(value);
                return [address, Traffic(type == "ip-src" ? "src" : "dst", address, null, value)];
            }
            case "ip-src|port":
            case "ip-dst|port":
            {
                if (second is null || !int.TryParse(second, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535) return null;
                var address = Address(first);
                return [address, Traffic(type.StartsWith("ip-src", StringComparison.Ordinal) ? "src" : "dst", address, port, value)];
            }
            case "domain":
            case "hostname":
                return [new("domain-name", value, j => j.WriteString("value", value))];
            case "domain|ip":
            {
                if (second is null) return null;
                var address = Address(second);
                return [address, new("domain-name", value, j =>
                {
                    j.WriteString("value", first);
                    j.WriteStartArray("resolves_to_refs");
                    j.WriteStringValue(address.Id);
                    j.WriteEndArray();
                })];
            }
            case "url":
            case "uri":
            case "link":
                return [new("url", value, j => j.WriteString("value", value))];
            case "email-src":
            case "email-dst":
                return [new("email-addr", value, j => j.WriteString("value", value))];
            case "email-subject":
                return [new("email-message", "subject:" + source, j =>
                {
                    j.WriteBoolean("is_multipart", false);
                    j.WriteString("subject", value);
                })];
            case "md5":
            case "sha1":
            case "sha256":
            case "sha512":
                return [File(null, type, value)];
            case "filename":
                return [File(value, null, null)];
            case "filename|md5":
            case "filename|sha1":
            case "filename|sha256":
            case "filename|sha512":
                return second is null ? null : [File(first, type[9..], second)];
            case "mutex":
                return [new("mutex", value, j => j.WriteString("name", value))];
            case "regkey":
                return [new("windows-registry-key", value, j => j.WriteString("key", StixPatterns.FullHive(value)))];
            case "regkey|value":
                return second is null ? null : [new("windows-registry-key", value, j =>
                {
                    j.WriteString("key", StixPatterns.FullHive(first));
                    j.WriteStartArray("values");
                    j.WriteStartObject();
                    j.WriteString("data", second);
                    j.WriteEndObject();
                    j.WriteEndArray();
                })];
            case "AS":
                return long.TryParse(value.StartsWith("AS", StringComparison.OrdinalIgnoreCase) ? value[2..] : value, out var number)
                    ? [new("autonomous-system", number.ToString(CultureInfo.InvariantCulture), j => j.WriteNumber("number", number))]
                    : null;
            case "mac-address":
                var mac = value.ToLowerInvariant().Replace('-', ':');
                return MacAddress().IsMatch(mac) ? [new("mac-addr", mac, j => j.WriteString("value", mac))] : null;
            default:
                return null;
        }
    }
}
