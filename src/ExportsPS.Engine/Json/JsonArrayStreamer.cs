using System.Text.Json;

namespace ExportsPS.Engine.Json;

/// <summary>Streams the elements of the arrays at given dotted property paths (e.g. <c>Event.Attribute</c>)
/// out of one large JSON document, holding one element at a time: a Utf8JsonReader over a refilled
/// buffer. Elements of arrays of arrays share their array's path.</summary>
public static class JsonArrayStreamer
{
    sealed class Scope(string path, bool isArray)
    {
        public readonly string Path = path;
        public readonly bool IsArray = isArray;
    }

    public static IEnumerable<(string Path, JsonElement Element)> Read(Stream input, IReadOnlySet<string> arrayPaths, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        var final = false;
        var state = new JsonReaderState();
        var scopes = new Stack<Scope>();
        string? property = null;
        var found = new List<(string, JsonElement)>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!final)
            {
                if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2); // one element larger than the buffer
                var read = input.Read(buffer, length, buffer.Length - length);
                if (read == 0) final = true;
                length += read;
            }
            found.Clear();
            var consumed = Scan(buffer.AsSpan(0, length), final, ref state, scopes, ref property, arrayPaths, found);
            foreach (var item in found) yield return item;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
            length -= consumed;
            if (final)
            {
                if (scopes.Count == 0) yield break;
                if (consumed == 0) throw new JsonException("the JSON document ends before it is complete");
            }
        }
    }

    static int Scan(ReadOnlySpan<byte> data, bool final, ref JsonReaderState state, Stack<Scope> scopes,
        ref string? property, IReadOnlySet<string> arrayPaths, List<(string, JsonElement)> found)
    {
        var reader = new Utf8JsonReader(data, final, state);
        var consumed = 0;
        while (true)
        {
            var beforeToken = reader;
            if (!reader.Read()) break;
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    property = reader.GetString();
                    break;
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    var parent = scopes.Count > 0 ? scopes.Peek() : null;
                    if (parent is { IsArray: true } && arrayPaths.Contains(parent.Path))
                    {
                        var end = reader;
                        if (!end.TrySkip()) { state = beforeToken.CurrentState; return consumed; } // wait for more data
                        var start = (int)reader.TokenStartIndex;
                        using (var document = JsonDocument.Parse(data[start..(int)end.BytesConsumed].ToArray()))
                            found.Add((parent.Path, document.RootElement.Clone()));
                        reader = end;
                        break;
                    }
                    var path = parent is null ? "" : parent.IsArray ? parent.Path : parent.Path.Length == 0 ? property ?? "" : parent.Path + "." + property;
                    scopes.Push(new Scope(path, reader.TokenType == JsonTokenType.StartArray));
                    property = null;
                    break;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    scopes.Pop();
                    break;
            }
            consumed = (int)reader.BytesConsumed;
            state = reader.CurrentState;
        }
        return consumed;
    }
}
