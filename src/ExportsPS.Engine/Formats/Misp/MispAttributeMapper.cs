using System.Globalization;
using System.Text.Json;
using ExportsPS.Engine.Json;

namespace ExportsPS.Engine.Formats.Misp;

/// <summary>Writes one MISP attribute from a source document (an attributes-index hit, or an attribute
/// inside an event or object). Only MISP's attribute fields are kept; uuid and id are never written, so
/// an import always creates fresh records; nulls are omitted; correlation stays enabled.</summary>
internal static class MispAttributeMapper
{
    /// <summary>The MISP event a hit carries — {"Event":{…}} or a bare event with Attribute/Object — or
    /// null when the hit is a single attribute. Shared by the misp and stix formats. An attribute as MISP's
    /// attributes/restSearch returns it (type and value, with "Event" and "Object" summaries) is an attribute.</summary>
    public static JsonElement? EventOf(JsonElement root) =>
        root.TryGetProperty("type", out _) && root.TryGetProperty("value", out _) ? null
        : root.TryGetProperty("Event", out var wrapped) && wrapped.ValueKind == JsonValueKind.Object ? wrapped
        : root.TryGetProperty("Attribute", out _) || root.TryGetProperty("Object", out _) ? root
        : null;

    /// <summary>The event a single attribute belongs to: flat event_uuid/event_info, or the "Event" summary
    /// MISP's attributes/restSearch adds.</summary>
    public static (string? Uuid, string? Info) EventSummaryOf(JsonElement attribute)
    {
        var hasSummary = attribute.TryGetProperty("Event", out var summary) && summary.ValueKind == JsonValueKind.Object;
        return (Text(attribute, "event_uuid") ?? (hasSummary ? Text(summary, "uuid") : null),
                Text(attribute, "event_info") ?? (hasSummary ? Text(summary, "info") : null));
    }

    // sharing_group_id is not copied: it is a local id on the source instance and names another group, or none, elsewhere.
    static readonly string[] TextFields = ["type", "category", "comment", "object_relation"];

    /// <summary>Returns false (and warns) when the attribute has no type or value. The tags of the source event it
    /// comes from (null for a lone attribute) are added to its own: the event it is written into is a different one,
    /// and a TLP or other marking set on the source event must not be lost.</summary>
    public static bool Write(Utf8JsonWriter writer, JsonElement attribute, JsonElement? sourceEvent, Action<string> warn, string where)
    {
        if (Text(attribute, "type") is not { Length: > 0 } type || Text(attribute, "value") is not { Length: > 0 } value)
        {
            warn($"{where}: skipped an attribute without type or value ({Abbreviate(attribute)}).");
            return false;
        }
        writer.WriteStartObject();
        writer.WriteString("type", type);
        foreach (var field in TextFields.Skip(1))
            if (Text(attribute, field) is { } text) writer.WriteString(field, text);
        writer.WriteString("value", value);
        writer.WriteBoolean("to_ids", ToIds(attribute));
        if (MispDistribution.Portable(Text(attribute, "distribution")) is { } distribution) writer.WriteString("distribution", distribution);
        if (!TryTimestamp(attribute, out var timestamp))
            warn($"{where}: timestamp '{attribute.GetProperty("timestamp")}' of {type} attribute '{value}' is not epoch seconds; omitted.");
        else if (timestamp is { } instant) writer.WriteString("timestamp", instant.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        foreach (var field in new[] { "first_seen", "last_seen" })
        {
            if (!attribute.TryGetProperty(field, out var raw) || raw.ValueKind == JsonValueKind.Null) continue;
            if (TryMispTime(raw, out var formatted)) writer.WriteString(field, formatted);
            else warn($"{where}: {field} '{raw}' of {type} attribute '{value}' is not epoch seconds, epoch milliseconds or ISO-8601; omitted.");
        }
        writer.WriteBoolean("disable_correlation", false);
        WriteTags(writer, attribute, sourceEvent);
        writer.WriteEndObject();
        return true;
    }

    /// <summary>The source's own tags then the event's, as MISP objects ({"name": …}), each name once.</summary>
    static void WriteTags(Utf8JsonWriter writer, JsonElement source, JsonElement? sourceEvent)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, colour) in Tags(source).Concat(sourceEvent is { } e ? Tags(e) : []))
        {
            if (!seen.Add(name)) continue;
            if (seen.Count == 1) writer.WriteStartArray("Tag");
            writer.WriteStartObject();
            writer.WriteString("name", name);
            if (colour is not null) writer.WriteString("colour", colour);
            writer.WriteEndObject();
        }
        if (seen.Count > 0) writer.WriteEndArray();
    }

    /// <summary>The tags of an attribute or event, given as strings or objects, under Tag or tags. Shared by the
    /// misp and stix formats.</summary>
    public static IEnumerable<(string Name, string? Colour)> Tags(JsonElement source)
    {
        if (source.ValueKind != JsonValueKind.Object ||
            !(source.TryGetProperty("Tag", out var tags) || source.TryGetProperty("tags", out tags)) || tags.ValueKind != JsonValueKind.Array) yield break;
        foreach (var tag in tags.EnumerateArray())
        {
            var name = tag.ValueKind == JsonValueKind.String ? JsonText.String(tag) : Text(tag, "name");
            if (!string.IsNullOrEmpty(name)) yield return (name, tag.ValueKind == JsonValueKind.Object ? Text(tag, "colour") : null);
        }
    }

    /// <summary>MISP's first_seen/last_seen form: microseconds and an offset, 2026-06-19T00:00:00.000000+00:00.</summary>
    public static bool TryMispTime(JsonElement raw, out string formatted)
    {
        formatted = TrySeenTime(raw, out var instant)
            ? instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture)
            : "";
        return formatted.Length > 0;
    }

    /// <summary>A first_seen/last_seen value in any form MISP writes it: epoch seconds or milliseconds (number or
    /// numeric string) or ISO-8601; false for anything else or beyond what a date can hold.</summary>
    public static bool TrySeenTime(JsonElement raw, out DateTimeOffset instant)
    {
        instant = default;
        if (Integer(raw) is { } number)
        {
            // Seconds until the year 5138; beyond that only milliseconds make sense.
            var milliseconds = number is >= 100_000_000_000 or <= -100_000_000_000 ? number : number * 1000; // not Math.Abs: it throws on long.MinValue
            if (milliseconds < MinEpochMilliseconds || milliseconds > MaxEpochMilliseconds) return false;
            instant = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
            return true;
        }
        return raw.ValueKind == JsonValueKind.String &&
               DateTimeOffset.TryParse(JsonText.String(raw), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
    }

    public static string? Text(JsonElement source, string name) =>
        source.ValueKind == JsonValueKind.Object && source.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => JsonText.String(value),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        } : null;

    /// <summary>Whether the attribute is flagged for detection, in each form MISP versions and APIs write it:
    /// true, any non-zero number, "1" or "true" in any case. Shared by the misp and stix formats, so one attribute means the same in both.</summary>
    public static bool ToIds(JsonElement attribute) =>
        attribute.TryGetProperty("to_ids", out var value) && value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.String => JsonText.String(value)?.Trim() is { } text && (text == "1" || text.Equals("true", StringComparison.OrdinalIgnoreCase)),
            JsonValueKind.Number => value.TryGetDouble(out var number) && number != 0,
            _ => false,
        };

    /// <summary>The attribute's timestamp, epoch seconds as a number or a numeric string: null when it has none;
    /// false when it holds something else or beyond what a date can hold, which the caller warns about, so one
    /// damaged record never fails an export.</summary>
    public static bool TryTimestamp(JsonElement attribute, out DateTimeOffset? instant)
    {
        instant = null;
        if (!attribute.TryGetProperty("timestamp", out var raw) || raw.ValueKind == JsonValueKind.Null) return true;
        if (Integer(raw) is not { } seconds || seconds < MinEpochMilliseconds / 1000 || seconds > MaxEpochMilliseconds / 1000) return false;
        instant = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    static readonly long MinEpochMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    static readonly long MaxEpochMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    static long? Integer(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n
        : value.ValueKind == JsonValueKind.String && long.TryParse(JsonText.String(value), NumberStyles.Integer, CultureInfo.InvariantCulture, out n) ? n
        : null;

    static string Abbreviate(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length <= 120 ? text : text[..117] + "...";
    }
}
