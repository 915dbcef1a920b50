using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ExportsPS.Engine.Formats.Stix;

/// <summary>A STIX cyber-observable object to write. Its id is the one STIX defines for its properties, so the
/// same address or file is one object across attributes, and across tools.</summary>
internal sealed class Observable(string type, Action<Utf8JsonWriter> properties)
{
    public string Id { get; } = ObservableIds.For(type, properties);

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
    [GeneratedRegex("^([0-9a-f]{2}:){5}[0-9a-f]{2}$")]
    private static partial Regex MacAddress();

    /// <summary>The pattern external-reference.json holds a CVE id to.</summary>
    [GeneratedRegex(@"^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$")]
    private static partial Regex CveId();

    /// <summary>A value in the form STIX constrains, shared by observables and patterns so both read a value
    /// alike: a MAC in lowercase colon form; ip|port with a numeric port, or the address alone when the port
    /// is missing; a CVE id upper-cased. Null, with the reason, for a value STIX cannot hold (the writer warns
    /// and keeps it as an x-misp-attribute); any other value as given.</summary>
    public static (string? Value, string? Problem) Normalise(string type, string value)
    {
        var (first, second) = Parts(value);
        switch (type)
        {
            case "mac-address":
                var mac = value.Trim().ToLowerInvariant().Replace('-', ':');
                return MacAddress().IsMatch(mac) ? (mac, null) : (null, "is no MAC address (six hex pairs)");
            case "ip-src|port":
            case "ip-dst|port":
                if (first is null) return (null, "has no address");
                if (second is null) return (first, null);
                return Port(second) is { } port ? ($"{first}|{port}", null) : (null, $"has port '{second}', no port number (0-65535)");
            case "domain|ip":
            case "filename|md5":
            case "filename|sha1":
            case "filename|sha256":
            case "filename|sha512":
            case "regkey|value":
                return first is null && second is null ? (null, "has neither part") : (value, null);
            case "AS":
                return AsNumber(value) is { } number ? (number.ToString(CultureInfo.InvariantCulture), null) : (null, "is no AS number");
            case "vulnerability":
                var cve = value.Trim().ToUpperInvariant();
                if (!cve.StartsWith("CVE-", StringComparison.Ordinal)) return (value, null); // a name such as Log4Shell
                return CveId().IsMatch(cve) ? (cve, null) : (null, "is no CVE id (CVE-yyyy-nnnn)");
            default:
                return (value, null);
        }
    }

    /// <summary>The halves of a composite MISP value (a|b), each null when empty.</summary>
    public static (string? First, string? Second) Parts(string value)
    {
        var parts = value.Split('|', 2);
        return (parts[0].Length > 0 ? parts[0] : null, parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null);
    }

    static int? Port(string text) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 ? port : null;

    static long? AsNumber(string value) =>
        long.TryParse(value.StartsWith("AS", StringComparison.OrdinalIgnoreCase) ? value[2..] : value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;

    static Observable Address(string ip) =>
        new(ip.Contains(':') ? "ipv6-addr" : "ipv4-addr", j => j.WriteString("value", ip));

    static Observable Traffic(string side, Observable address, int? port) =>
        new("network-traffic", j =>
        {
            j.WriteString(side + "_ref", address.Id);
            if (port is { } p) j.WriteNumber(side + "_port", p);
            j.WriteStartArray("protocols");
            j.WriteStringValue(address.Id.StartsWith("ipv6", StringComparison.Ordinal) ? "ipv6" : "ipv4");
            j.WriteEndArray();
        });

    static Observable File(string? name, string? hashType, string? hash) =>
        new("file", j =>
        {
            if (hashType is not null && hash is not null)
            {
                j.WriteStartObject("hashes");
                j.WriteString(StixPatterns.HashName(hashType), hash);
                j.WriteEndObject();
            }
            if (name is not null) j.WriteString("name", name);
        });

    /// <summary>The observables for a value <see cref="Normalise"/> returned; null when the type has none.</summary>
    public static List<Observable>? For(string type, string value)
    {
        var (first, second) = Parts(value);
        switch (type)
        {
            case "ip-src":
            case "ip-dst":
            {
                var address = Address(value);
                return [address, Traffic(type == "ip-src" ? "src" : "dst", address, null)];
            }
            case "ip-src|port":
            case "ip-dst|port":
            {
                var address = Address(first!);
                return [address, Traffic(type.StartsWith("ip-src", StringComparison.Ordinal) ? "src" : "dst", address, second is null ? null : int.Parse(second, CultureInfo.InvariantCulture))];
            }
            case "domain":
            case "hostname":
                return [new("domain-name", j => j.WriteString("value", value))];
            case "domain|ip":
            {
                if (first is null) return [Address(second!)];
                if (second is null) return [new("domain-name", j => j.WriteString("value", first))];
                var address = Address(second);
                // Its id is its value's alone, as for any domain-name: the first attribute to write the domain decides
                // whether it carries this resolution. The observed-data refers to both, so the pairing stays either way.
                return [address, new("domain-name", j =>
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
                return [new("url", j => j.WriteString("value", value))];
            case "email-src":
            case "email-dst":
                return [new("email-addr", j => j.WriteString("value", value))];
            case "email-subject":
                return [new("email-message", j =>
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
                return [File(first, second is null ? null : type[9..], second)];
            case "mutex":
                return [new("mutex", j => j.WriteString("name", value))];
            case "regkey":
                return [new("windows-registry-key", j => j.WriteString("key", StixPatterns.FullHive(value)))];
            case "regkey|value":
                return second is null ? [new("windows-registry-key", j => j.WriteString("key", StixPatterns.FullHive(first!)))] : [new("windows-registry-key", j =>
                {
                    if (first is not null) j.WriteString("key", StixPatterns.FullHive(first));
                    j.WriteStartArray("values");
                    j.WriteStartObject();
                    j.WriteString("data", second);
                    j.WriteEndObject();
                    j.WriteEndArray();
                })];
            case "AS":
                var number = long.Parse(value, CultureInfo.InvariantCulture);
                return [new("autonomous-system", j => j.WriteNumber("number", number))];
            case "mac-address":
                return [new("mac-addr", j => j.WriteString("value", value))];
            default:
                return null;
        }
    }
}
