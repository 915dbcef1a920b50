using System.Text.Json;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Formats;

/// <summary>What a formatter knows about the export it writes.</summary>
public sealed class FormatContext
{
    public FormatContext(ExportDefinition export, IReadOnlyList<string> columns, Action<string> warn)
    {
        Export = export;
        Columns = columns;
        Warn = warn;
    }

    public ExportDefinition Export { get; }
    /// <summary>The resolved field list: the export's, or the index's default columns when it has none.</summary>
    public IReadOnlyList<string> Columns { get; }
    /// <summary>Set when records may arrive as <see cref="Json.LeafRecord"/>s: which columns their paths fill.</summary>
    public Json.LeafColumnMap? LeafColumns { get; init; }
    /// <summary>Reports a per-record problem (kept in the run's warnings) without failing the run.</summary>
    public Action<string> Warn { get; }
}

/// <summary>Writes records into one output stream: <see cref="WriteStart"/>, any number of
/// <see cref="WriteRecord"/> with a record's raw <c>_source</c> JSON (or its <see cref="Json.LeafRecord"/>, for a
/// format given <see cref="FormatContext.LeafColumns"/>), then <see cref="WriteEnd"/>. Must not buffer records: memory stays flat whatever the count.</summary>
public interface IRecordFormatter : IDisposable
{
    void WriteStart();
    void WriteRecord(ReadOnlySpan<byte> sourceJson);
    void WriteEnd();

    /// <summary>Instead of <see cref="WriteStart"/>: the output already holds the start and
    /// <paramref name="recordsWritten"/> records (a resumed run appends to its partial file).</summary>
    void Continue(long recordsWritten) => throw new NotSupportedException("This format cannot continue a partial file.");

    /// <summary>Pushes everything written so far to the output (a checkpoint cuts the file after it).</summary>
    void Flush() { }
}

/// <summary>An output format: the slot MISP and STIX plug into, beside json, jsonl and csv.</summary>
public abstract class ExportFormat
{
    public abstract string Name { get; }
    public abstract string FileExtension { get; }
    public virtual string ContentType => "application/json";
    public abstract string Description { get; }

    /// <summary>Whether CSV-style columns are needed (the run resolves default columns when no fields are given).</summary>
    public virtual bool NeedsColumns => false;

    /// <summary>A hard cap on matched records, checked before conversion (STIX); null for none.</summary>
    public virtual long? MaxRecords(ExportDefinition export) => null;

    /// <summary>Checks format options before any work starts; throws <see cref="ExportException"/>.</summary>
    public virtual void Validate(ExportDefinition export) { }

    public abstract IRecordFormatter CreateWriter(Stream output, FormatContext context);

    /// <summary>Null when a partial file of this format can be continued (<see cref="IRecordFormatter.Continue"/>);
    /// otherwise why runs in this format restart instead.</summary>
    public virtual string? ContinueUnsupportedReason => $"a {Name} file cannot be continued part-way";

    /// <summary>True for formats whose records are independent rows (csv): batches can then be formatted on
    /// several cores with <see cref="CreateRowWriter"/> and concatenated in order.</summary>
    public virtual bool WritesIndependentRows => false;

    /// <summary>True for formats that write each <c>_source</c> as it came (json, jsonl): formatting is a copy.</summary>
    public virtual bool CopiesSource => false;

    /// <summary>A writer of rows only (no header, no wrapper); its <see cref="IRecordFormatter.WriteEnd"/>
    /// flushes the rows written so far.</summary>
    public virtual IRecordFormatter CreateRowWriter(Stream output, FormatContext context) =>
        throw new NotSupportedException($"The {Name} format writes no independent rows.");

    /// <summary>Reads an artifact of this format back as records (for <c>Receive-ExportFile -AsObject</c>).</summary>
    public abstract IEnumerable<JsonElement> ReadRecords(Stream input, CancellationToken cancellationToken);
}
