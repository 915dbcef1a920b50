using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ExportsPS.Engine.Formats.Stix;

/// <summary>STIX 2.1 ids for cyber-observables (§2.9): UUIDv5 in the SCO namespace over the RFC 8785 (JCS)
/// serialisation of the object's ID contributing properties. Other tools (OpenCTI, the stix2 library, misp-stix)
/// derive the same id for the same address, domain or file, so a consumer merges rather than duplicates them.</summary>
internal static class ObservableIds
{
    /// <summary>The ID contributing properties of each observable type this format writes, from each type's section of the spec.</summary>
    static readonly Dictionary<string, string[]> Contributing = new(StringComparer.Ordinal)
    {
        ["autonomous-system"] = ["number"],
        ["domain-name"] = ["value"],
        ["email-addr"] = ["value"],
        ["email-message"] = ["from_ref", "subject", "body"],
        ["file"] = ["hashes", "name", "extensions", "parent_directory_ref"],
        ["ipv4-addr"] = ["value"],
        ["ipv6-addr"] = ["value"],
        ["mac-addr"] = ["value"],
        ["mutex"] = ["name"],
        ["network-traffic"] = ["start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"],
        ["url"] = ["value"],
        ["windows-registry-key"] = ["key", "values"],
    };

    /// <summary>The id of an observable whose properties <paramref name="properties"/> writes.</summary>
    public static string For(string type, Action<Utf8JsonWriter> properties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            properties(json);
            json.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        var names = Contributing[type];
        var contributing = document.RootElement.EnumerateObject().Where(p => names.Contains(p.Name)).ToList();
        if (contributing.Count == 0)
            throw new InvalidOperationException($"A {type} observable without any of its id properties ({string.Join(", ", names)}).");
        var canonical = new StringBuilder();
        WriteObject(contributing, canonical);
        return StixFormat.DeterministicId(type, canonical.ToString());
    }

    /// <summary>JCS: members sorted by their names' UTF-16 code units (ordinal order of .NET strings), no whitespace.</summary>
    static void WriteObject(IEnumerable<JsonProperty> members, StringBuilder canonical)
    {
        canonical.Append('{');
        var first = true;
        foreach (var member in members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (!first) canonical.Append(',');
            first = false;
            WriteString(member.Name, canonical);
            canonical.Append(':');
            WriteValue(member.Value, canonical);
        }
        canonical.Append('}');
    }

    static void WriteValue(JsonElement value, StringBuilder canonical)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(value.EnumerateObject(), canonical);
                break;
            case JsonValueKind.Array:
                canonical.Append('[');
                var first = true;
                foreach (var item in value.EnumerateArray())
                {
                    if (!first) canonical.Append(',');
                    first = false;
                    WriteValue(item, canonical);
                }
                canonical.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(value.GetString()!, canonical);
                break;
            case JsonValueKind.Number:
                // Ports and AS numbers: integers, whose JCS form is their plain decimal. A fraction would need
                // ECMAScript's number formatting, which no id property written here has.
                if (!value.TryGetInt64(out var number))
                    throw new InvalidOperationException($"Observable id property value {value.GetRawText()} is not an integer.");
                canonical.Append(number.ToString(CultureInfo.InvariantCulture));
                break;
            default:
                canonical.Append(value.GetRawText()); // true, false, null
                break;
        }
    }

    /// <summary>JCS strings: only the quote, the backslash and control characters are escaped (the short forms
    /// where JSON has them, else \u00xx in lowercase hex); everything else is written as itself.</summary>
    internal static void WriteString(string text, StringBuilder canonical)
    {
        canonical.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': canonical.Append("\\\""); break;
                case '\\': canonical.Append("\\\\"); break;
                case '\b': canonical.Append("\\b"); break;
                case '\f': canonical.Append("\\f"); break;
                case '\n': canonical.Append("\\n"); break;
                case '\r': canonical.Append("\\r"); break;
                case '\t': canonical.Append("\\t"); break;
                case < ' ': canonical.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: canonical.Append(c); break;
            }
        }
        canonical.Append('"');
    }
}
