using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace ExportsPS.Engine.Json;

/// <summary>OpenSearch-style <c>_source.includes</c>: keeps only the listed dotted paths, preserving the
/// document's nesting. Matches both nested objects (<c>{"source":{"ip":…}}</c>) and flat dotted keys
/// (<c>{"source.ip":…}</c>); filters into arrays of objects. One forward pass with Utf8JsonReader (no DOM):
/// whole included values are copied as raw bytes, and an object or array is opened in the output only
/// once something inside it is kept. Not thread-safe: one per reading thread.</summary>
public sealed class SourceFilter
{
    readonly IncludeNode _root = new("");
    readonly ArrayBufferWriter<byte> _buffer = new(4096);
    readonly Utf8JsonWriter _writer;
    /// <summary>Containers being filtered, outermost first; a container is written only once something
    /// inside it is kept (so partial paths that match nothing leave no empty objects behind).</summary>
    readonly List<Scope> _scopes = new();

    struct Scope
    {
        public byte[]? Name;
        public bool IsArray;
        public bool Written;
    }

    public SourceFilter(IEnumerable<string> includes)
    {
        foreach (var path in includes) _root.Add(path).Whole = true;
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>Returns the filtered document; the span is valid until the next call.</summary>
    public ReadOnlySpan<byte> Apply(ReadOnlySpan<byte> document)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _scopes.Clear();
        var reader = new Utf8JsonReader(document);
        reader.Read();
        _writer.WriteStartObject();                      // the document itself is always written
        _scopes.Add(new Scope { Written = true });
        FilterObject(ref reader, document, _root);
        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenSpan;
    }

    /// <summary>Reader on StartObject; consumes through its EndObject.</summary>
    void FilterObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> document, IncludeNode node)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var target = node.Find(ref reader);
            // Most kept names are the include's own segment: its bytes are reused, not copied per document.
            var name = target is null ? null
                : !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual(target.Utf8Name) ? target.Utf8Name
                : reader.ValueIsEscaped || !Utf8.IsValid(reader.ValueSpan) ? JsonText.Utf8Lossy(reader.ValueSpan, reader.ValueIsEscaped)
                : reader.ValueSpan.ToArray();
            reader.Read();
            if (target is null) { reader.Skip(); continue; }
            if (target.Whole)
            {
                WriteOpenScopes();
                var start = (int)reader.TokenStartIndex;
                var end = reader;
                end.Skip();
                _writer.WritePropertyName(name!);
                _writer.WriteRawValue(document[start..(int)end.BytesConsumed], skipInputValidation: true);
                reader = end;
                continue;
            }
            FilterValue(ref reader, document, target, name);
        }
    }

    /// <summary>A value under a partially included path: containers are descended; scalars are not kept
    /// (as in OpenSearch, where <c>a.b</c> does not keep a scalar <c>a</c>).</summary>
    void FilterValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> document, IncludeNode node, byte[]? name)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        var isArray = reader.TokenType == JsonTokenType.StartArray;
        _scopes.Add(new Scope { Name = name, IsArray = isArray });
        if (isArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) FilterValue(ref reader, document, node, null);
        }
        else FilterObject(ref reader, document, node);
        var scope = _scopes[^1];
        _scopes.RemoveAt(_scopes.Count - 1);
        if (!scope.Written) return;
        if (isArray) _writer.WriteEndArray(); else _writer.WriteEndObject();
    }

    /// <summary>Something is about to be kept: write every enclosing container not written yet.</summary>
    void WriteOpenScopes()
    {
        for (var i = 0; i < _scopes.Count; i++)
        {
            if (_scopes[i].Written) continue;
            var scope = _scopes[i];
            if (scope.Name is not null) _writer.WritePropertyName(scope.Name);
            if (scope.IsArray) _writer.WriteStartArray(); else _writer.WriteStartObject();
            scope.Written = true;
            _scopes[i] = scope;
        }
    }

    sealed class IncludeNode(string name) : FieldPathNode<IncludeNode>(name)
    {
        /// <summary>The include names this path itself: its whole value is kept.</summary>
        public bool Whole;

        protected override bool TakesDescendants => Whole;

        protected override IncludeNode CreateChild(string segment) => new(segment);
    }
}
