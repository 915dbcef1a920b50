using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ExportsPS.Engine.Json;

/// <summary>Reads the values at a dotted path of a JSON document, following nested objects, flat dotted
/// keys and arrays alike, so a column like <c>source.ip</c> finds its value however the document spells it.</summary>
public sealed class FieldPath
{
    readonly string[] _segments;

    public FieldPath(string path)
    {
        Path = path;
        _segments = path.Split('.');
    }

    public string Path { get; }

    /// <summary>Appends every scalar value found at the path, joined with <paramref name="separator"/>.</summary>
    public void AppendValues(JsonElement document, StringBuilder target, char separator)
    {
        var first = true;
        Visit(document, 0, target, separator, ref first);
    }

    void Visit(JsonElement element, int index, StringBuilder target, char separator, ref bool first)
    {
        if (index == _segments.Length)
        {
            AppendScalar(element, target, separator, ref first);
            return;
        }
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                // Try the longest dotted key first: {"source.ip": …} before {"source": {"ip": …}}.
                for (var end = _segments.Length; end > index; end--)
                {
                    var key = end == index + 1 ? _segments[index] : string.Join('.', _segments, index, end - index);
                    if (element.TryGetProperty(key, out var child))
                        Visit(child, end, target, separator, ref first);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    Visit(item, index, target, separator, ref first);
                break;
        }
    }

    static void AppendScalar(JsonElement element, StringBuilder target, char separator, ref bool first)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    AppendScalar(item, target, separator, ref first);
                return;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return;
        }
        if (!first) target.Append(separator);
        first = false;
        switch (element.ValueKind)
        {
            case JsonValueKind.String: target.Append(element.GetString()); break;
            case JsonValueKind.True: target.Append("true"); break;
            case JsonValueKind.False: target.Append("false"); break;
            case JsonValueKind.Number: target.Append(element.GetRawText()); break;
            default: target.Append(element.GetRawText()); break; // an object leaf: keep it as JSON
        }
    }

    /// <summary>Every leaf path of a document in document order (arrays contribute their elements' paths).</summary>
    public static void CollectLeafPaths(JsonElement element, string prefix, ICollection<string> into, ISet<string> seen)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var path = prefix.Length == 0 ? property.Name : prefix + "." + property.Name;
                    CollectLeafPaths(property.Value, path, into, seen);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    CollectLeafPaths(item, prefix, into, seen);
                break;
            default:
                if (prefix.Length > 0 && seen.Add(prefix)) into.Add(prefix);
                break;
        }
    }

    public static string FormatInvariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
