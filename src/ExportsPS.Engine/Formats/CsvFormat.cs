using System.Buffers;
using System.Text;
using System.Text.Json;
using CsvHelper;
using ExportsPS.Engine.Json;

namespace ExportsPS.Engine.Formats;

/// <summary>csv: one row per record, one column per field (dotted paths, flattened from nested objects);
/// arrays such as tags are joined with <c>|</c>. Cells starting with = + - @ (or tab/CR) are prefixed with
/// <c>'</c> unless the export turns that off, so a spreadsheet never evaluates exported data.</summary>
public sealed class CsvFormat : ExportFormat
{
    public const char ValueSeparator = '|';
    public const string FormulaCharacters = "=+-@\t\r";
    // A table, not SearchValues: one byte per cell is looked up, where SearchValues' call cost 1% of a csv run.
    static readonly bool[] FormulaStarts = Enumerable.Range(0, 256).Select(b => FormulaCharacters.Contains((char)b)).ToArray();

    public override string Name => "csv";
    public override string FileExtension => "csv";
    public override string ContentType => "text/csv";
    public override string Description => "Comma-separated values: one column per field, arrays joined with '|'.";
    public override bool NeedsColumns => true;

    public override IRecordFormatter CreateWriter(Stream output, FormatContext context) =>
        new Writer(output, context.Columns, context.LeafColumns, context.Export.NeutralizeCsvFormulas);

    public override bool WritesIndependentRows => true;

    public override string? ContinueUnsupportedReason => null;

    public override IRecordFormatter CreateRowWriter(Stream output, FormatContext context) =>
        new Writer(output, context.Columns, context.LeafColumns, context.Export.NeutralizeCsvFormulas);

    public override IEnumerable<JsonElement> ReadRecords(Stream input, CancellationToken cancellationToken)
    {
        // Strict: every file read here was written by this format, so a malformed or ragged row is damage, and
        // CsvHelper's default (recover and read on) would hand the caller records that were never exported.
        using var reader = CsvReader.Create(input, new CsvReaderOptions
        {
            HasHeader = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Throw,
        }, true);
        bool Next()
        {
            try { return reader.Read(); }
            catch (CsvFormatException ex) { throw new InvalidDataException(ex.Message, ex); }
        }
        if (!Next()) yield break;
        var headers = reader.Headers.ToArray();
        var buffer = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(buffer);
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            buffer.ResetWrittenCount();
            json.Reset(buffer);
            json.WriteStartObject();
            for (var i = 0; i < headers.Length && i < reader.FieldCount; i++)
                json.WriteString(headers[i], reader.GetString(i));
            json.WriteEndObject();
            json.Flush();
            using var document = JsonDocument.Parse(buffer.WrittenMemory);
            yield return document.RootElement.Clone();
        } while (Next());
    }

    sealed class Writer : IRecordFormatter
    {
        readonly CsvWriter _csv;
        readonly string[] _header;
        readonly ColumnExtractor _extractor;
        readonly LeafColumnMap? _leafColumns;

        readonly Stream _output;
        readonly bool _neutralize;

        public Writer(Stream output, IReadOnlyList<string> columns, LeafColumnMap? leafColumns, bool neutralize)
        {
            _leafColumns = leafColumns;
            _output = output;
            _neutralize = neutralize;
            _header = columns.ToArray();
            _extractor = new ColumnExtractor(columns, ValueSeparator);
            // Formula cells are neutralised here, not by CsvHelper's injection option: that option sends every
            // cell through its slower custom path, and cells starting with = + - @ are rare.
            _csv = CsvWriter.Create(output, new CsvWriterOptions { NewLine = "\n" }, true);
        }

        /// <summary>Written directly (nothing has gone through the CsvWriter yet). Without -Field the names come from
        /// the index, so from whoever wrote its documents: a name that starts like a formula is neutralised like a
        /// cell, unless it is a plain field path (<c>@timestamp</c> stays as it is; <c>=HYPERLINK(…)</c> does not).</summary>
        public void WriteStart()
        {
            var header = string.Join(',', _header.Select(name =>
                _neutralize && name.Length > 0 && name[0] < 128 && FormulaStarts[name[0]] && !IsPlainFieldPath(name)
                    ? "\"'" + name.Replace("\"", "\"\"") + "\""
                    : Quote(name))) + "\n";
            _output.Write(Encoding.UTF8.GetBytes(header));
        }

        static bool IsPlainFieldPath(string name) => name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');

        public void WriteRecord(ReadOnlySpan<byte> record)
        {
            if (!LeafRecord.Is(record)) _extractor.Extract(record);
            else _extractor.ExtractLeaves(record, _leafColumns ?? throw new InvalidOperationException("A leaf record reached a csv writer made without its column map."));
            for (var i = 0; i < _extractor.Count; i++)
            {
                var cell = _extractor[i];
                if (_neutralize && NeedsNeutralizing(cell) && !_extractor.IsNumber(i)) WriteNeutralized(cell);
                else _csv.WriteField(cell); // UTF-8 straight from the document: quoted only if it must be
            }
            _csv.EndRecord();
        }

        /// <summary>Starts like a formula. A lone "-" (the log placeholder for "none") or "+" cannot be one.</summary>
        static bool NeedsNeutralizing(ReadOnlySpan<byte> cell) =>
            cell.Length > 0 && FormulaStarts[cell[0]] && !(cell.Length == 1 && cell[0] is (byte)'-' or (byte)'+');

        /// <summary>A cell a spreadsheet would evaluate: a leading <c>'</c> makes it text, and it is quoted, as
        /// OWASP advises for CSV injection.</summary>
        void WriteNeutralized(ReadOnlySpan<byte> cell) => _csv.WriteField("'" + Encoding.UTF8.GetString(cell), CsvQuoting.Always);

        static string Quote(string field) =>
            field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

        public void WriteEnd() => _csv.Flush();

        public void Continue(long recordsWritten) { } // the header is in the partial file already

        public void Flush() => _csv.Flush();

        public void Dispose() => _csv.Dispose();
    }
}
