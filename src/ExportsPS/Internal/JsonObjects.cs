using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json;

namespace ExportsPS.Internal;

/// <summary>JSON ⇄ PowerShell objects, without ConvertTo-/ConvertFrom-Json (the module must work in a
/// bare hosted engine too). Objects become PSCustomObjects with properties in document order.</summary>
internal static class JsonObjects
{
    public static object? ToPowerShell(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ToPSObject(element),
        JsonValueKind.Array => element.EnumerateArray().Select(ToPowerShell).ToArray(),
        // Lossy like the rest of the engine: a lone surrogate escape is U+FFFD, not an exception mid-pipeline.
        JsonValueKind.String => Engine.Json.JsonText.String(element),
        // Decimal keeps 0.1 exact, but a value below its 28 decimal places (1e-30) would become 0: a double then.
        JsonValueKind.Number => element.TryGetInt64(out var l) ? l
            : element.TryGetDecimal(out var m) && (m != 0m || element.GetDouble() == 0d) ? m
            : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    static PSObject ToPSObject(JsonElement element)
    {
        var result = new PSObject();
        foreach (var property in element.EnumerateObject())
        {
            // Duplicate keys: the last one wins, as in ConvertFrom-Json.
            var name = Engine.Json.JsonText.Name(property);
            result.Properties.Remove(name);
            result.Properties.Add(new PSNoteProperty(name, ToPowerShell(property.Value)));
        }
        return result;
    }

    /// <summary>A pipeline object as a JSON document: a JSON string, a hashtable, a PSCustomObject or any
    /// object's public properties.</summary>
    public static JsonElement ToJson(object? input)
    {
        var value = input is PSObject ps ? ps.BaseObject : input;
        if (value is string text)
        {
            try
            {
                using var parsed = JsonDocument.Parse(text);
                return parsed.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new FormatException($"the string is not a JSON document ({ex.Message})", ex);
            }
        }
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, input, 0);
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    const int MaxDepth = 32;

    static void Write(Utf8JsonWriter writer, object? input, int depth)
    {
        if (depth > MaxDepth) throw new FormatException($"the object is nested more than {MaxDepth} levels deep");
        var value = input is PSObject wrapped ? wrapped.BaseObject : input;
        switch (value)
        {
            case null: writer.WriteNullValue(); return;
            case string s: writer.WriteStringValue(s); return;
            case bool b: writer.WriteBooleanValue(b); return;
            case DateTime dt: writer.WriteStringValue(dt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)); return;
            case DateTimeOffset dto: writer.WriteStringValue(dto.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)); return;
            case Guid g: writer.WriteStringValue(g.ToString()); return;
            case Enum e: writer.WriteStringValue(e.ToString()); return;
            case char c: writer.WriteStringValue(c.ToString()); return;
            case byte or sbyte or short or ushort or int or uint or long: writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); return;
            case ulong ul: writer.WriteNumberValue(ul); return;
            case float or double: writer.WriteNumberValue(Convert.ToDouble(value, CultureInfo.InvariantCulture)); return;
            case decimal d: writer.WriteNumberValue(d); return;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    Write(writer, entry.Value, depth + 1);
                }
                writer.WriteEndObject();
                return;
            case IEnumerable sequence:
                writer.WriteStartArray();
                foreach (var item in sequence) Write(writer, item, depth + 1);
                writer.WriteEndArray();
                return;
        }
        // PSCustomObject or any other object: its properties (note properties first, as typed).
        var psObject = input as PSObject ?? PSObject.AsPSObject(value);
        writer.WriteStartObject();
        foreach (var property in psObject.Properties)
        {
            if (property is PSPropertyInfo { IsGettable: false }) continue;
            object? propertyValue;
            try { propertyValue = property.Value; }
            catch (GetValueException) { continue; }
            writer.WritePropertyName(property.Name);
            Write(writer, propertyValue, depth + 1);
        }
        writer.WriteEndObject();
    }
}
