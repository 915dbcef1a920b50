using System.Text.Json;
using System.Text.Unicode;

namespace ExportsPS.Engine.Json;

/// <summary>Pulls the values of many dotted-path columns out of a JSON document in one forward pass,
/// without building a DOM: the CSV hot path. Nested objects, flat dotted keys (<c>"source.ip"</c>) and
/// arrays (including arrays of objects) all reach a column; several values are joined with the
/// separator. Cells are UTF-8, copied straight from the document where no JSON escape needs undoing, so
/// a value is never decoded to UTF-16 and encoded back. Cells are always valid UTF-8: invalid bytes and lone
/// surrogate escapes (<c>\udc00</c>) in a document become U+FFFD rather than failing a long export on one
/// damaged value. Not thread-safe: one per writing thread.</summary>
public sealed class ColumnExtractor
{
    readonly Node _root = new("");
    readonly CellBuffer[] _columns;
    readonly byte _separator;
    bool _documentIsUtf8;

    public ColumnExtractor(IReadOnlyList<string> columns, char separator)
    {
        if (separator > 0x7F) throw new ArgumentOutOfRangeException(nameof(separator), "The value separator must be an ASCII character.");
        _separator = (byte)separator;
        _columns = new CellBuffer[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            _columns[i] = new CellBuffer();
            _root.Add(columns[i]).AddColumn(i);
        }
    }

    public int Count => _columns.Length;

    /// <summary>The UTF-8 text of column <paramref name="index"/> for the last extracted document.</summary>
    public ReadOnlySpan<byte> this[int index] => _columns[index].Text;

    /// <summary>Whether column <paramref name="index"/> holds exactly one JSON number (-5 is a value, not a formula).</summary>
    public bool IsNumber(int index) => _columns[index].IsNumber;

    public void Extract(ReadOnlySpan<byte> document)
    {
        foreach (var column in _columns) column.Clear();
        // One pass over the document costs half of one per cell; cells are checked only when it fails.
        _documentIsUtf8 = Utf8.IsValid(document);
        var reader = new Utf8JsonReader(document);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("a record must be a JSON object");
        VisitObject(ref reader, _root, document);
    }

    /// <summary>Reader on StartObject; returns on its EndObject.</summary>
    void VisitObject(ref Utf8JsonReader reader, Node node, ReadOnlySpan<byte> document)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var target = node.Find(ref reader);
            reader.Read();
            if (target is null) reader.Skip();
            else VisitValue(ref reader, target, document);
        }
    }

    void VisitValue(ref Utf8JsonReader reader, Node node, ReadOnlySpan<byte> document)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                if (node.Columns.Length > 0)
                {
                    // A column that names an object gets the object's JSON text.
                    var start = (int)reader.TokenStartIndex;
                    var end = reader;
                    end.Skip();
                    var raw = document[start..(int)end.BytesConsumed];
                    foreach (var column in node.Columns)
                    {
                        _columns[column].Separate(_separator);
                        _columns[column].AppendText(raw, _documentIsUtf8);
                    }
                }
                if (node.HasChildren) VisitObject(ref reader, node, document);
                else reader.Skip();
                return;
            case JsonTokenType.StartArray:
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    VisitValue(ref reader, node, document);
                return;
            case JsonTokenType.Null:
                return;
            default:
                foreach (var column in node.Columns) AppendScalar(_columns[column], ref reader);
                return;
        }
    }

    void AppendScalar(CellBuffer column, ref Utf8JsonReader reader)
    {
        column.Separate(_separator);
        column.AppendScalar(ref reader, _documentIsUtf8);
    }

    /// <summary>Fills the columns from a <see cref="LeafRecord"/> instead of JSON: the same cells, without the parse.</summary>
    public void ExtractLeaves(ReadOnlySpan<byte> record, LeafColumnMap map)
    {
        foreach (var column in _columns) column.Clear();
        var position = 1; // past the marker
        while (position < record.Length)
        {
            var cell = LeafRecord.ReadCell(record, ref position, out var pathId, out var isNumber);
            foreach (var column in map.ColumnsOf(pathId))
            {
                var buffer = _columns[column];
                buffer.Separate(_separator);
                buffer.AppendValue(cell, isNumber);
            }
        }
    }

    sealed class Node(string name) : FieldPathNode<Node>(name)
    {
        // An array, not a list: it is read for every value the document has at this path.
        public int[] Columns = [];

        public void AddColumn(int column) => Columns = [.. Columns, column];

        protected override Node CreateChild(string segment) => new(segment);
    }
}

/// <summary>One cell's UTF-8 text as a column takes it from JSON: the csv extractor's columns, and the cells an
/// import precomputes (<see cref="LeafRecordWriter"/>), so both ways give the same bytes.</summary>
internal sealed class CellBuffer
{
    byte[] _bytes = new byte[256];
    int _length;
    bool _any;

    public ReadOnlySpan<byte> Text => _bytes.AsSpan(0, _length);

    public bool IsNumber { get; set; }

    public void Clear() { _length = 0; _any = false; IsNumber = false; }

    public void Separate(byte separator)
    {
        if (_any)
        {
            IsNumber = false;
            Ensure(1);
            _bytes[_length++] = separator;
        }
        _any = true;
    }

    public void Append(ReadOnlySpan<byte> text)
    {
        Ensure(text.Length);
        text.CopyTo(_bytes.AsSpan(_length));
        _length += text.Length;
    }

    /// <summary>Document text that needs no unescaping (a string's raw bytes, an object's JSON): copied when
    /// it is valid UTF-8, which the reader does not check, else repaired.</summary>
    public void AppendText(ReadOnlySpan<byte> text, bool knownValid)
    {
        if (knownValid || Utf8.IsValid(text)) Append(text);
        else Append(JsonText.Utf8Lossy(text, escaped: false));
    }

    /// <summary>A scalar token's cell: a string's value, true or false, a number's JSON text exactly (which makes
    /// the cell a number when it is the cell's first value).</summary>
    public void AppendScalar(ref Utf8JsonReader reader, bool knownValid)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                AppendString(ref reader, knownValid);
                break;
            case JsonTokenType.True:
                Append("true"u8);
                break;
            case JsonTokenType.False:
                Append("false"u8);
                break;
            default:
                AppendValue(reader.ValueSpan, isNumber: true);
                break;
        }
    }

    /// <summary>A value's finished text; a number keeps the cell a number only as its first value (-5 is a value, 1|2 is not).</summary>
    public void AppendValue(ReadOnlySpan<byte> text, bool isNumber)
    {
        if (isNumber) IsNumber = _length == 0;
        Append(text);
    }

    /// <summary>The string's UTF-8 value: its raw bytes unless an escape (\n, \u00e9, \") must be undone.</summary>
    public void AppendString(ref Utf8JsonReader reader, bool knownValid)
    {
        // The reader is made over a span, so a value is never split across segments.
        if (!reader.ValueIsEscaped)
        {
            AppendText(reader.ValueSpan, knownValid);
            return;
        }
        // Unescaping never makes a value longer than its raw text.
        Ensure(reader.ValueSpan.Length);
        try
        {
            _length += reader.CopyString(_bytes.AsSpan(_length));
        }
        catch (InvalidOperationException)
        {
            Append(JsonText.Utf8Lossy(reader.ValueSpan, escaped: true));
        }
    }

    void Ensure(int more)
    {
        if (_length + more > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + more));
    }
}
