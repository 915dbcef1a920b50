using System.Buffers;
using System.Text;
using System.Text.Json;

namespace ExportsPS.Engine.Json;

/// <summary>Pulls the values of many dotted-path columns out of a JSON document in one forward pass,
/// without building a DOM: the CSV hot path. Nested objects, flat dotted keys (<c>"source.ip"</c>) and
/// arrays (including arrays of objects) all reach a column; several values are joined with the
/// separator. Not thread-safe: one per writing thread.</summary>
public sealed class ColumnExtractor
{
    readonly Node _root = new("");
    readonly ColumnBuffer[] _columns;
    readonly char _separator;

    public ColumnExtractor(IReadOnlyList<string> columns, char separator)
    {
        _separator = separator;
        _columns = new ColumnBuffer[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            _columns[i] = new ColumnBuffer();
            var node = _root;
            foreach (var segment in columns[i].Split('.')) node = node.Child(segment);
            node.Columns.Add(i);
        }
    }

    public int Count => _columns.Length;

    /// <summary>The text of column <paramref name="index"/> for the last extracted document.</summary>
    public ReadOnlySpan<char> this[int index] => _columns[index].Text;

    public void Extract(ReadOnlySpan<byte> document)
    {
        foreach (var column in _columns) column.Clear();
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
                if (node.Columns.Count > 0)
                {
                    // A column that names an object gets the object's JSON text.
                    var start = (int)reader.TokenStartIndex;
                    var end = reader;
                    end.Skip();
                    var raw = document[start..(int)end.BytesConsumed];
                    foreach (var column in node.Columns) _columns[column].AppendSeparated(_separator, Encoding.UTF8.GetString(raw));
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

    void AppendScalar(ColumnBuffer column, ref Utf8JsonReader reader)
    {
        column.Separate(_separator);
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                column.AppendString(ref reader);
                break;
            case JsonTokenType.True:
                column.Append("true");
                break;
            case JsonTokenType.False:
                column.Append("false");
                break;
            default: // numbers keep their JSON text exactly
                column.AppendAscii(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                break;
        }
    }

    sealed class ColumnBuffer
    {
        char[] _chars = new char[256];
        int _length;
        bool _any;

        public ReadOnlySpan<char> Text => _chars.AsSpan(0, _length);

        public void Clear() { _length = 0; _any = false; }

        public void Separate(char separator)
        {
            if (_any) Append(separator);
            _any = true;
        }

        public void AppendSeparated(char separator, ReadOnlySpan<char> text)
        {
            Separate(separator);
            Append(text);
        }

        void Append(char c)
        {
            Ensure(1);
            _chars[_length++] = c;
        }

        public void Append(ReadOnlySpan<char> text)
        {
            Ensure(text.Length);
            text.CopyTo(_chars.AsSpan(_length));
            _length += text.Length;
        }

        public void AppendAscii(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            for (var i = 0; i < bytes.Length; i++) _chars[_length + i] = (char)bytes[i];
            _length += bytes.Length;
        }

        public void AppendString(ref Utf8JsonReader reader)
        {
            var maxChars = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
            Ensure(maxChars);
            _length += reader.CopyString(_chars.AsSpan(_length));
        }

        void Ensure(int more)
        {
            if (_length + more > _chars.Length) Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _length + more));
        }
    }

    sealed class Node(string name)
    {
        public readonly byte[] Utf8Name = Encoding.UTF8.GetBytes(name);
        public readonly string Name = name;
        public readonly List<int> Columns = new();
        readonly List<Node> _children = new();

        public bool HasChildren => _children.Count > 0;

        public Node Child(string segment)
        {
            foreach (var child in _children) if (child.Name == segment) return child;
            var created = new Node(segment);
            _children.Add(created);
            return created;
        }

        /// <summary>The node a property name leads to (following dots in flat keys), or null.</summary>
        public Node? Find(ref Utf8JsonReader reader)
        {
            foreach (var child in _children)
                if (reader.ValueTextEquals(child.Utf8Name)) return child;
            var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
            if (raw.IndexOf((byte)'.') < 0) return null;
            Node? node = this;
            foreach (var segment in reader.GetString()!.Split('.'))
            {
                node = node._children.FirstOrDefault(c => c.Name == segment);
                if (node is null) return null;
            }
            return node;
        }
    }
}
