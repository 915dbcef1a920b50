using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lucene.Net.Documents;
using Lucene.Net.Util;

namespace ExportsPS.Engine.Sources.Embedded;

/// <summary>Turns one JSON document into a Lucene document by the index mapping. A value that cannot be
/// indexed as its field's type (a word in a long field) stays in <c>_source</c> but is not searchable,
/// and is counted, like OpenSearch's <c>ignore_malformed</c>.</summary>
internal sealed class DocumentBuilder
{
    readonly IndexMapping _mapping;
    readonly ArrayBufferWriter<byte> _compact = new(4096);
    readonly Utf8JsonWriter _writer;
    readonly StringBuilder _all = new();
    readonly HashSet<string> _paths = new(StringComparer.Ordinal);

    public DocumentBuilder(IndexMapping mapping)
    {
        _mapping = mapping;
        _writer = new Utf8JsonWriter(_compact);
    }

    public long MalformedValues { get; private set; }

    public Document Build(JsonElement source)
    {
        if (source.ValueKind != JsonValueKind.Object)
            throw new FormatException($"a document must be a JSON object, not {source.ValueKind.ToString().ToLowerInvariant()}");
        var document = new Document();
        _all.Clear();
        _paths.Clear();
        AddObject(document, source, "");
        foreach (var path in _paths)
            document.Add(new StringField(EmbeddedFields.FieldNames, path, Field.Store.NO));
        if (_all.Length > 0)
            document.Add(new TextField(EmbeddedFields.All, _all.ToString(), Field.Store.NO));

        _compact.ResetWrittenCount();
        _writer.Reset(_compact);
        source.WriteTo(_writer);
        _writer.Flush();
        document.Add(new BinaryDocValuesField(EmbeddedFields.Source, new BytesRef(_compact.WrittenSpan.ToArray())));
        return document;
    }

    void AddObject(Document document, JsonElement obj, string prefix)
    {
        foreach (var property in obj.EnumerateObject())
        {
            var path = prefix.Length == 0 ? property.Name : prefix + "." + property.Name;
            AddValue(document, property.Value, path);
        }
    }

    void AddValue(Document document, JsonElement value, string path)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                MarkPath(path);
                AddObject(document, value, path);
                return;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray()) AddValue(document, item, path);
                return;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return;
        }
        var kind = _mapping.Observe(path, value);
        if (!AddLeaf(document, path, kind, value)) { MalformedValues++; return; }
        MarkPath(path);
    }

    void MarkPath(string path)
    {
        // _exists_:source must match when source.ip exists, as in OpenSearch.
        while (_paths.Add(path))
        {
            var dot = path.LastIndexOf('.');
            if (dot < 0) break;
            path = path[..dot];
        }
    }

    bool AddLeaf(Document document, string path, FieldKind kind, JsonElement value)
    {
        switch (kind)
        {
            case FieldKind.Text:
            {
                var text = ScalarText(value);
                document.Add(new TextField(path, text, Field.Store.NO));
                if (text.Length <= EmbeddedFields.KeywordIgnoreAbove)
                    document.Add(new StringField(path + IndexMapping.KeywordSuffix, text, Field.Store.NO));
                AppendAll(text);
                return true;
            }
            case FieldKind.Keyword:
            {
                var text = ScalarText(value);
                document.Add(new StringField(path, text, Field.Store.NO));
                AppendAll(text);
                return true;
            }
            case FieldKind.Date:
                if (!TryEpochMillis(value, out var millis)) return false;
                document.Add(new Int64Field(path, millis, Field.Store.NO));
                return true;
            case FieldKind.Long:
                if (!TryLong(value, out var number)) return false;
                document.Add(new Int64Field(path, number, Field.Store.NO));
                return true;
            case FieldKind.Double:
                if (!TryDouble(value, out var real)) return false;
                document.Add(new DoubleField(path, real, Field.Store.NO));
                return true;
            case FieldKind.Boolean:
                if (!TryBoolean(value, out var flag)) return false;
                document.Add(new StringField(path, flag ? "true" : "false", Field.Store.NO));
                return true;
            default:
                return false;
        }
    }

    void AppendAll(string text)
    {
        if (_all.Length > 0) _all.Append(' ');
        _all.Append(text);
    }

    static string ScalarText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    internal static bool TryEpochMillis(JsonElement value, out long millis)
    {
        millis = 0;
        if (value.ValueKind == JsonValueKind.Number) return value.TryGetInt64(out millis);
        if (value.ValueKind != JsonValueKind.String) return false;
        if (!Exports.DateMath.TryParseAbsolute(value.GetString()!, out var instant)) return false;
        millis = instant.ToUnixTimeMilliseconds();
        return true;
    }

    // OpenSearch coerces numeric strings ("42") into numeric fields by default.
    static bool TryLong(JsonElement value, out long number)
    {
        number = 0;
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (value.TryGetInt64(out number)) return true;
            if (value.TryGetDouble(out var d) && d >= long.MinValue && d <= long.MaxValue) { number = (long)d; return true; }
            return false;
        }
        return value.ValueKind == JsonValueKind.String &&
               long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out number);
    }

    static bool TryDouble(JsonElement value, out double number)
    {
        number = 0;
        if (value.ValueKind == JsonValueKind.Number) return value.TryGetDouble(out number);
        return value.ValueKind == JsonValueKind.String &&
               double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
    }

    static bool TryBoolean(JsonElement value, out bool flag)
    {
        flag = value.ValueKind == JsonValueKind.True;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return true;
        return value.ValueKind == JsonValueKind.String && bool.TryParse(value.GetString(), out flag);
    }
}
