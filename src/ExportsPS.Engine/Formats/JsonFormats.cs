using System.Text.Json;

namespace ExportsPS.Engine.Formats;

/// <summary>json: one array of the raw <c>_source</c> documents. Bytes pass through untouched.</summary>
public sealed class JsonArrayFormat : ExportFormat
{
    public override string Name => "json";
    public override string FileExtension => "json";
    public override string Description => "A JSON array of the matching documents' _source.";

    public override IRecordFormatter CreateWriter(Stream output, FormatContext context) => new Writer(output);

    public override string? ContinueUnsupportedReason => null;

    public override bool CopiesSource => true;

    public override IEnumerable<JsonElement> ReadRecords(Stream input, CancellationToken cancellationToken) =>
        JsonRecordReader.ReadArray(input, cancellationToken);

    sealed class Writer(Stream output) : IRecordFormatter
    {
        bool _first = true;

        public void WriteStart() => output.WriteByte((byte)'[');

        public void Continue(long recordsWritten) => _first = recordsWritten == 0;

        public void WriteRecord(ReadOnlySpan<byte> sourceJson)
        {
            if (!_first) output.WriteByte((byte)',');
            output.WriteByte((byte)'\n');
            output.Write(sourceJson);
            _first = false;
        }

        public void WriteEnd() => output.Write(_first ? "]\n"u8 : "\n]\n"u8);

        public void Dispose() { }
    }
}

/// <summary>jsonl: one <c>_source</c> document per line. Bytes pass through untouched, except line breaks
/// between tokens (OpenSearch returns <c>_source</c> exactly as it was indexed, pretty-printed or not).</summary>
public sealed class JsonLinesFormat : ExportFormat
{
    public override string Name => "jsonl";
    public override string FileExtension => "jsonl";
    public override string ContentType => "application/x-ndjson";
    public override string Description => "One JSON document per line (NDJSON).";

    public override IRecordFormatter CreateWriter(Stream output, FormatContext context) => new Writer(output);

    public override string? ContinueUnsupportedReason => null;

    public override bool CopiesSource => true;

    public override IEnumerable<JsonElement> ReadRecords(Stream input, CancellationToken cancellationToken) =>
        JsonRecordReader.ReadLines(input, cancellationToken);

    sealed class Writer(Stream output) : IRecordFormatter
    {
        public void WriteStart() { }

        public void Continue(long recordsWritten) { }

        public void WriteRecord(ReadOnlySpan<byte> sourceJson)
        {
            // A JSON string cannot hold a raw line break, so any in the document is whitespace that would split it.
            if (sourceJson.IndexOfAny((byte)'\n', (byte)'\r') < 0) output.Write(sourceJson);
            else WriteWithoutWhitespace(sourceJson);
            output.WriteByte((byte)'\n');
        }

        /// <summary>The document with the whitespace between its tokens dropped; strings are copied as they are.</summary>
        void WriteWithoutWhitespace(ReadOnlySpan<byte> json)
        {
            bool inString = false, escaped = false;
            foreach (var b in json)
            {
                if (inString)
                {
                    if (escaped) escaped = false;
                    else if (b == (byte)'\\') escaped = true;
                    else if (b == (byte)'"') inString = false;
                }
                else if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') continue;
                else if (b == (byte)'"') inString = true;
                output.WriteByte(b);
            }
        }

        public void WriteEnd() { }

        public void Dispose() { }
    }
}

/// <summary>Streams records back out of JSON artifacts without loading the file.</summary>
public static class JsonRecordReader
{
    public static IEnumerable<JsonElement> ReadArray(Stream input, CancellationToken cancellationToken)
    {
        var items = JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(input, cancellationToken: cancellationToken);
        var enumerator = items.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                yield return enumerator.Current;
        }
        finally { enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    public static IEnumerable<JsonElement> ReadLines(Stream input, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(input, leaveOpen: true);
        while (reader.ReadLine() is { } line)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (line.Length == 0) continue;
            using var document = JsonDocument.Parse(line);
            yield return document.RootElement.Clone();
        }
    }
}
