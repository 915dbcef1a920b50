using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ExportsPS.Engine.Json;

/// <summary>A document's csv cells, worked out once when it is imported, so a csv export reads them instead of
/// tokenising the JSON again (the tokenising was half of a csv row's cost). Layout: a 0x00 marker (a JSON record
/// starts with <c>{</c>), then for every non-null scalar in document order: varint (path id × 2, + 1 for a number),
/// varint length, and the cell's UTF-8 bytes exactly as <see cref="ColumnExtractor"/> takes them from the JSON.
/// Path ids number the index's <see cref="LeafPaths"/>.</summary>
public static class LeafRecord
{
    public const byte Marker = 0;

    public static bool Is(ReadOnlySpan<byte> record) => record.Length > 0 && record[0] == Marker;

    /// <summary>Appends one cell's entry.</summary>
    internal static void WriteCell(IBufferWriter<byte> output, int pathId, bool isNumber, ReadOnlySpan<byte> cell)
    {
        WriteVarint(output, pathId * 2 + (isNumber ? 1 : 0));
        WriteVarint(output, cell.Length);
        output.Write(cell);
    }

    /// <summary>The cell entry at <paramref name="position"/> (1 for the first, past the marker), which it moves past.</summary>
    internal static ReadOnlySpan<byte> ReadCell(ReadOnlySpan<byte> record, ref int position, out int pathId, out bool isNumber)
    {
        var key = ReadVarint(record, ref position);
        var length = ReadVarint(record, ref position);
        (pathId, isNumber) = (key >> 1, (key & 1) != 0);
        var cell = record.Slice(position, length);
        position += length;
        return cell;
    }

    static int ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        int value = 0, shift = 0;
        byte next;
        do
        {
            next = bytes[position++];
            value |= (next & 0x7F) << shift;
            shift += 7;
        } while (next >= 0x80);
        return value;
    }

    static void WriteVarint(IBufferWriter<byte> output, int value)
    {
        var span = output.GetSpan(5);
        var length = 0;
        var rest = (uint)value;
        while (rest >= 0x80)
        {
            span[length++] = (byte)(rest | 0x80);
            rest >>= 7;
        }
        span[length++] = (byte)rest;
        output.Advance(length);
    }
}

/// <summary>Every field path an index's documents have, numbered in first-seen order, and which of them ever held an
/// object: a csv column naming such a path takes the object's JSON text, which leaf records do not keep, so such an
/// export reads the JSON. Numbers are never reused or changed (the records in the index hold them); the list is saved
/// with each commit of the index, so it always covers the records that commit holds. Thread-safe.</summary>
public sealed class LeafPaths
{
    /// <summary>Documents with ever-new keys (a map keyed by user) would grow the list without end; past this many
    /// paths, a document with a new one is imported without a leaf record and exported from its JSON.</summary>
    public const int MaxPaths = 4096;

    readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<int, bool> _objects = new();
    readonly List<string> _paths = new();
    readonly object _gate = new();

    public int Count { get { lock (_gate) return _paths.Count; } }

    /// <summary>The path's number, given on first sight; -1 when the list is full.</summary>
    public int IdOf(string path)
    {
        if (_ids.TryGetValue(path, out var id)) return id;
        lock (_gate)
        {
            if (_ids.TryGetValue(path, out id)) return id;
            if (_paths.Count >= MaxPaths) return -1;
            id = _paths.Count;
            _paths.Add(path);
            _ids[path] = id;
            return id;
        }
    }

    /// <summary>Records that <paramref name="path"/> held an object; false when the list is full.</summary>
    public bool MarkObject(string path)
    {
        var id = IdOf(path);
        if (id < 0) return false;
        _objects.TryAdd(id, true);
        return true;
    }

    /// <summary>Which columns each path fills; null when a column names a path that held an object.</summary>
    public LeafColumnMap? MapColumns(IReadOnlyList<string> columns)
    {
        lock (_gate)
        {
            var columnsOfPath = new int[_paths.Count][];
            Array.Fill(columnsOfPath, []);
            for (var column = 0; column < columns.Count; column++)
            {
                if (!_ids.TryGetValue(columns[column], out var id)) continue; // no document has it: an empty cell either way
                if (_objects.ContainsKey(id)) return null;
                columnsOfPath[id] = [.. columnsOfPath[id], column];
            }
            return new LeafColumnMap(columnsOfPath);
        }
    }

    public string ToJson()
    {
        lock (_gate)
            return JsonSerializer.Serialize(new Stored(_paths.ToList(), _objects.Keys.Order().ToList()));
    }

    /// <summary>The list saved as <paramref name="json"/>; an empty one for null; null when the text cannot be read
    /// (then the index's leaf records cannot be decoded, and no new ones may be numbered).</summary>
    public static LeafPaths? FromJson(string? json)
    {
        var paths = new LeafPaths();
        if (json is null) return paths;
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(json);
            if (stored?.Paths is null || stored.Objects is null) return null;
            foreach (var path in stored.Paths)
                if (path is null || !paths._ids.TryAdd(path, paths._paths.Count)) return null;
                else paths._paths.Add(path);
            foreach (var id in stored.Objects)
                if (id < 0 || id >= paths._paths.Count) return null;
                else paths._objects.TryAdd(id, true);
            return paths;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    sealed record Stored(List<string> Paths, List<int> Objects);
}

/// <summary>For one export: the csv columns each leaf path of the index fills.</summary>
public sealed class LeafColumnMap
{
    readonly int[][] _columnsOfPath;

    internal LeafColumnMap(int[][] columnsOfPath) => _columnsOfPath = columnsOfPath;

    public ReadOnlySpan<int> ColumnsOf(int pathId) => (uint)pathId < (uint)_columnsOfPath.Length ? _columnsOfPath[pathId] : [];
}

/// <summary>Writes a document's <see cref="LeafRecord"/> while it is imported. Paths are joined with dots whether the
/// document nests objects or uses dotted keys, which is how <see cref="FieldPathNode{TNode}"/> matches them, and
/// cells go through the same <see cref="CellBuffer"/> as the csv extractor's. Not thread-safe: one per importing thread.</summary>
public sealed class LeafRecordWriter(LeafPaths paths)
{
    /// <summary>Names met so far, as a tree of raw name bytes, so a document's paths are neither decoded nor joined
    /// again (that was most of the writer's cost). Bounded: keys that are ever new (a map keyed by user) stop being kept.</summary>
    const int MaxKeptNames = 2 * LeafPaths.MaxPaths;
    readonly PathNode _root = new("", null);
    int _keptNames;

    readonly CellBuffer _cell = new();
    readonly ArrayBufferWriter<byte> _output = new(4096);
    bool _documentIsUtf8;

    /// <summary>The record of <paramref name="document"/> (valid until the next call), or null when it cannot have one
    /// (the path list is full, or a name is not valid UTF-8): such a document is exported from its JSON.</summary>
    public ReadOnlyMemory<byte>? Write(ReadOnlySpan<byte> document)
    {
        _output.ResetWrittenCount();
        _output.GetSpan(1)[0] = LeafRecord.Marker;
        _output.Advance(1);
        _documentIsUtf8 = Utf8.IsValid(document);
        var reader = new Utf8JsonReader(document);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        if (!WriteObject(ref reader, _root)) return null;
        return _output.WrittenMemory;
    }

    /// <summary>Reader on StartObject; returns on its EndObject.</summary>
    bool WriteObject(ref Utf8JsonReader reader, PathNode parent)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (ChildOf(parent, ref reader) is not { } node) return false;
            reader.Read();
            if (!WriteValue(ref reader, node)) return false;
        }
        return true;
    }

    bool WriteValue(ref Utf8JsonReader reader, PathNode node)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                if (!node.MarkedObject)
                {
                    if (!paths.MarkObject(node.Path)) return false;
                    node.MarkedObject = true;
                }
                return WriteObject(ref reader, node);
            case JsonTokenType.StartArray:
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    if (!WriteValue(ref reader, node)) return false;
                return true;
            case JsonTokenType.Null:
                return true;
            default:
                // The list only grows, and a full one takes no new path: a number once given, or refused, stays so.
                if (node.Id == PathNode.Unknown) node.Id = paths.IdOf(node.Path);
                if (node.Id < 0) return false;
                _cell.Clear();
                _cell.AppendScalar(ref reader, _documentIsUtf8);
                LeafRecord.WriteCell(_output, node.Id, _cell.IsNumber, _cell.Text);
                return true;
        }
    }

    /// <summary>The node of the property name under the reader; null for raw bytes that are not UTF-8, which the csv
    /// extractor compares byte by byte where a decoded path would differ.</summary>
    PathNode? ChildOf(PathNode parent, ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        if (!reader.ValueIsEscaped)
            foreach (var child in parent.Children)
                if (child.RawName!.AsSpan().SequenceEqual(raw)) return child;
        string name;
        if (reader.ValueIsEscaped) name = JsonText.DecodeLossy(raw, escaped: true);
        else if (Utf8.IsValid(raw)) name = Encoding.UTF8.GetString(raw);
        else return null;
        var path = parent == _root ? name : parent.Path + "." + name;
        // Escaped names are rare and their raw bytes are not the name: they are looked up anew each time.
        if (reader.ValueIsEscaped || _keptNames >= MaxKeptNames) return new PathNode(path, null);
        var node = new PathNode(path, raw.ToArray());
        parent.Children = [.. parent.Children, node];
        _keptNames++;
        return node;
    }

    sealed class PathNode(string path, byte[]? rawName)
    {
        public const int Unknown = -2;
        public readonly string Path = path;
        public readonly byte[]? RawName = rawName;
        public PathNode[] Children = [];
        public int Id = Unknown;
        public bool MarkedObject;
    }
}
