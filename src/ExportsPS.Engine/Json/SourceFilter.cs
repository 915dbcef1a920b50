using System.Buffers;
using System.Text.Json;

namespace ExportsPS.Engine.Json;

/// <summary>OpenSearch-style <c>_source.includes</c>: keeps only the listed dotted paths, preserving the
/// document's nesting. Matches both nested objects (<c>{"source":{"ip":…}}</c>) and flat dotted keys
/// (<c>{"source.ip":…}</c>); filters into arrays of objects. Not thread-safe: one per reading thread.</summary>
public sealed class SourceFilter
{
    readonly IncludeNode _root = new();
    readonly ArrayBufferWriter<byte> _buffer = new(4096);
    readonly Utf8JsonWriter _writer;

    public SourceFilter(IEnumerable<string> includes)
    {
        foreach (var path in includes)
        {
            var node = _root;
            foreach (var segment in path.Split('.'))
                node = node.Child(segment);
            node.Whole = true;
        }
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>Returns the filtered document; the span is valid until the next call.</summary>
    public ReadOnlySpan<byte> Apply(ReadOnlySpan<byte> document)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        var reader = new Utf8JsonReader(document);
        using var parsed = JsonDocument.ParseValue(ref reader);
        WriteObject(parsed.RootElement, _root);
        _writer.Flush();
        return _buffer.WrittenSpan;
    }

    void WriteObject(JsonElement obj, IncludeNode node)
    {
        _writer.WriteStartObject();
        foreach (var property in obj.EnumerateObject())
        {
            var target = node.Resolve(property.Name);
            if (target is null) continue;
            if (target.Whole)
            {
                property.WriteTo(_writer);
            }
            else if (HasMatch(property.Value, target))
            {
                _writer.WritePropertyName(property.Name);
                WriteFiltered(property.Value, target);
            }
        }
        _writer.WriteEndObject();
    }

    void WriteFiltered(JsonElement value, IncludeNode node)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            WriteObject(value, node);
            return;
        }
        // An array reached through a partial path: keep its object elements, filtered.
        _writer.WriteStartArray();
        foreach (var item in value.EnumerateArray())
            if (HasMatch(item, node)) WriteFiltered(item, node);
        _writer.WriteEndArray();
    }

    static bool HasMatch(JsonElement value, IncludeNode node)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    var target = node.Resolve(property.Name);
                    if (target is not null && (target.Whole || HasMatch(property.Value, target))) return true;
                }
                return false;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                    if (HasMatch(item, node)) return true;
                return false;
            default:
                return false;
        }
    }

    sealed class IncludeNode
    {
        Dictionary<string, IncludeNode>? _children;
        public bool Whole;

        public IncludeNode Child(string segment)
        {
            _children ??= new Dictionary<string, IncludeNode>(StringComparer.Ordinal);
            if (!_children.TryGetValue(segment, out var child)) _children[segment] = child = new IncludeNode();
            return child;
        }

        /// <summary>Follows a property name that may itself contain dots.</summary>
        public IncludeNode? Resolve(string propertyName)
        {
            if (_children is null) return null;
            if (_children.TryGetValue(propertyName, out var direct)) return direct;
            if (!propertyName.Contains('.')) return null;
            IncludeNode? node = this;
            foreach (var segment in propertyName.Split('.'))
            {
                if (node.Whole) return node;
                if (node._children is null || !node._children.TryGetValue(segment, out node)) return null;
            }
            return node;
        }
    }
}
