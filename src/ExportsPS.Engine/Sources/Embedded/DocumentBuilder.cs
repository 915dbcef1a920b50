using System.Buffers;
using System.Runtime.InteropServices;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Json;
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
    readonly HashSet<string> _paths = new(StringComparer.Ordinal);

    readonly DocumentOrder? _order;
    readonly LeafRecordWriter? _leaves;
    readonly CancellationToken _cancellationToken;
    long _number;

    /// <param name="order">Shared by the builders of one import, so a field is typed by the first document that has it.</param>
    /// <param name="leafPaths">The index's path list, when documents get a leaf record for csv exports (null: they do not).</param>
    public DocumentBuilder(IndexMapping mapping, DocumentOrder? order = null, LeafPaths? leafPaths = null, CancellationToken cancellationToken = default)
    {
        _mapping = mapping;
        _order = order;
        _leaves = leafPaths is null ? null : new LeafRecordWriter(leafPaths);
        _cancellationToken = cancellationToken;
        _writer = new Utf8JsonWriter(_compact);
    }

    static readonly FieldType LongType = Frozen(new FieldType(Int64Field.TYPE_NOT_STORED) { NumericPrecisionStep = EmbeddedFields.NumericPrecisionStep });
    static readonly FieldType DoubleType = Frozen(new FieldType(DoubleField.TYPE_NOT_STORED) { NumericPrecisionStep = EmbeddedFields.NumericPrecisionStep });

    static FieldType Frozen(FieldType type) { type.Freeze(); return type; }

    public long MalformedValues { get; private set; }

    /// <summary>Builds the document for <paramref name="source"/>. The returned document and its fields
    /// are reused by the next call (Lucene's advice for indexing speed: a new Field per value costs a
    /// new token stream each), so index it before building the next one.</summary>
    public Document Build(JsonElement source, long number = 0)
    {
        _number = number;
        if (source.ValueKind != JsonValueKind.Object)
            throw new FormatException($"a document must be a JSON object, not {source.ValueKind.ToString().ToLowerInvariant()}");
        _document.Fields.Clear();
        foreach (var slots in _touched) slots.Used = 0;
        _touched.Clear();
        _paths.Clear();
        AddObject(_document, source, "");
        foreach (var path in _paths)
            _document.Add(Rent(EmbeddedFields.FieldNames, Slot.FieldName, path, static (name, value) => new StringField(name, value, Field.Store.NO)));

        _compact.ResetWrittenCount();
        _writer.Reset(_compact);
        try
        {
            source.WriteTo(_writer);
            _writer.Flush();
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape (a truncated emoji, "\ud83d"): valid JSON the writer cannot re-encode. The
            // document is kept as written; exports repair the value to U+FFFD. (The writer is reset per document.)
            _compact.ResetWrittenCount();
            _compact.Write(System.Text.Encoding.UTF8.GetBytes(source.GetRawText()));
        }
        MemoryMarshal.TryGetArray(_compact.WrittenMemory, out var written);
        _sourceField.SetBytesValue(new BytesRef(written.Array, written.Offset, written.Count));
        _document.Add(_sourceField);
        if (_leaves?.Write(_compact.WrittenSpan) is { } leaves && MemoryMarshal.TryGetArray(leaves, out var cells))
        {
            _leavesField.SetBytesValue(new BytesRef(cells.Array, cells.Offset, cells.Count));
            _document.Add(_leavesField);
        }
        return _document;
    }

    enum Slot : byte { Text, Exact, Long, Double, FieldName }

    sealed class Slots
    {
        public readonly List<Field> Fields = new();
        public int Used;
    }

    readonly Document _document = new();
    readonly BinaryDocValuesField _sourceField = new(EmbeddedFields.Source, new BytesRef());
    readonly BinaryDocValuesField _leavesField = new(EmbeddedFields.Leaves, new BytesRef());
    readonly Dictionary<(string, Slot), Slots> _slots = new();
    readonly List<Slots> _touched = new();

    /// <summary>The next unused field instance for (name, slot) in this document, created on first need.</summary>
    Field Rent(string name, Slot slot, string text, Func<string, string, Field> create)
    {
        var field = Rent(name, slot, () => create(name, text));
        field.SetStringValue(text);
        return field;
    }

    Field Rent(string name, Slot slot, Func<Field> create)
    {
        if (!_slots.TryGetValue((name, slot), out var slots)) _slots[(name, slot)] = slots = new Slots();
        if (slots.Used == 0) _touched.Add(slots);
        if (slots.Used == slots.Fields.Count) slots.Fields.Add(create());
        return slots.Fields[slots.Used++];
    }

    void AddObject(Document document, JsonElement obj, string prefix)
    {
        foreach (var property in obj.EnumerateObject())
        {
            var name = Json.JsonText.Name(property);
            var path = prefix.Length == 0 ? name : prefix + "." + name;
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
        if (_mapping.Mapped(path) is not { } kind)
        {
            if (!_mapping.Dynamic) return;
            // A new field: the documents before this one may have it too, and the first of them decides its type.
            _order?.WaitForEarlier(_number, _cancellationToken);
            if (_mapping.Observe(path, value) is not { } decided) return;
            kind = decided;
        }
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
                document.Add(Rent(path, Slot.Text, text, static (name, v) => new TextField(name, v, Field.Store.NO)));
                if (text.Length <= EmbeddedFields.KeywordIgnoreAbove)
                {
                    var keyword = path + IndexMapping.KeywordSuffix;
                    document.Add(Rent(keyword, Slot.Exact, text, static (name, v) => new StringField(name, v, Field.Store.NO)));
                    _paths.Add(keyword); // _exists_:x.keyword and x.keyword:* match where the subfield was indexed, as in OpenSearch
                }
                return true;
            }
            case FieldKind.Keyword:
                document.Add(Rent(path, Slot.Exact, ScalarText(value), static (name, v) => new StringField(name, v, Field.Store.NO)));
                return true;
            case FieldKind.Date:
            case FieldKind.Long:
            {
                long number;
                if (!(kind == FieldKind.Date ? TryEpochMillis(value, out number) : TryLong(value, out number))) return false;
                var field = Rent(path, Slot.Long, () => new Int64Field(path, 0L, LongType));
                field.SetInt64Value(number);
                document.Add(field);
                return true;
            }
            case FieldKind.Double:
            {
                if (!TryDouble(value, out var real)) return false;
                var field = Rent(path, Slot.Double, () => new DoubleField(path, 0d, DoubleType));
                field.SetDoubleValue(real);
                document.Add(field);
                return true;
            }
            case FieldKind.Boolean:
                if (!TryBoolean(value, out var flag)) return false;
                document.Add(Rent(path, Slot.Exact, flag ? "true" : "false", static (name, v) => new StringField(name, v, Field.Store.NO)));
                return true;
            default:
                return false;
        }
    }

    static string ScalarText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Json.JsonText.String(value)!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    internal static bool TryEpochMillis(JsonElement value, out long millis)
    {
        millis = 0;
        if (value.ValueKind == JsonValueKind.Number) return value.TryGetInt64(out millis);
        if (value.ValueKind != JsonValueKind.String) return false;
        if (!Exports.DateMath.TryParseAbsolute(Json.JsonText.String(value)!, out var instant)) return false;
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
               long.TryParse(Json.JsonText.String(value), NumberStyles.Integer, CultureInfo.InvariantCulture, out number);
    }

    static bool TryDouble(JsonElement value, out double number)
    {
        number = 0;
        if (value.ValueKind == JsonValueKind.Number) return value.TryGetDouble(out number);
        return value.ValueKind == JsonValueKind.String &&
               double.TryParse(Json.JsonText.String(value), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
    }

    static bool TryBoolean(JsonElement value, out bool flag)
    {
        flag = value.ValueKind == JsonValueKind.True;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return true;
        return value.ValueKind == JsonValueKind.String && bool.TryParse(Json.JsonText.String(value), out flag);
    }
}
