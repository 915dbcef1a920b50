using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Sources;

/// <summary>What a run asks a source for. The time range is already resolved to absolute instants.
/// <see cref="ResumeAfter"/> continues an interrupted run: per slice, the raw JSON sort values of the last
/// record already written (null: the slice starts from the beginning).</summary>
public sealed record SourceQuery(
    string Index,
    string Query,
    IReadOnlyList<string> Fields,
    string TimestampField,
    DateTimeOffset? From,
    DateTimeOffset? To,
    int Slices = 1,
    IReadOnlyList<string?>? ResumeAfter = null)
{
    /// <summary>The columns a csv export takes from each record: a source that has them worked out already may hand
    /// <see cref="Json.LeafRecord"/>s instead of JSON (see <see cref="ISourceSession.LeafColumns"/>). Null for other formats.</summary>
    public IReadOnlyList<string>? Columns { get; init; }
}

/// <summary>A search backend. <see cref="Validate"/> runs before a run is created so bad input never
/// starts work; <see cref="OpenAsync"/> pins a consistent view (a Lucene reader, an OpenSearch PIT)
/// whose <see cref="ISourceSession.Total"/> is exactly what <see cref="ISourceSession.ReadAsync"/> yields.</summary>
public interface IRecordSource
{
    string Name { get; }

    /// <summary>Throws <see cref="ExportException"/> for an unknown index, a query that does not parse
    /// or a field that does not exist. Cancellable: a remote source may be retrying an unreachable node.</summary>
    void Validate(SourceQuery query, CancellationToken cancellationToken = default);

    /// <summary>Leaf fields of the index, most useful first (used for CSV columns without a field list).</summary>
    IReadOnlyList<string> DefaultColumns(string index, CancellationToken cancellationToken = default);

    /// <summary>Replaces field patterns (<c>source.*</c>) with the concrete fields they match, in index order;
    /// exact names pass through. Throws for a pattern that matches nothing.</summary>
    IReadOnlyList<string> ExpandFields(string index, IReadOnlyList<string> fields, CancellationToken cancellationToken = default);

    Task<ISourceSession> OpenAsync(SourceQuery query, CancellationToken cancellationToken);
}

public interface ISourceSession : IAsyncDisposable
{
    /// <summary>How many records <see cref="ReadAsync"/> will yield.</summary>
    long Total { get; }

    /// <summary>How the session reads (e.g. "point in time, 4 slices, 37 pages"), for the run's record.</summary>
    string Describe() => "";

    /// <summary>Null when batches carry positions that a later session can continue after (honouring
    /// <see cref="SourceQuery.ResumeAfter"/>); otherwise why this session's runs must restart.</summary>
    string? ResumeUnsupportedReason => "this source cannot continue a run from a position";

    /// <summary>Why this session may yield fewer records than <see cref="Total"/> when it does (a cause the user can
    /// fix, said when the counts differ); null when only a retry can help.</summary>
    string? MissingRecordsHint => null;

    /// <summary>What batch positions are values of (the sort key), recorded with them.</summary>
    string PositionKey => "";

    /// <summary>Set when <see cref="ReadAsync"/> may hand <see cref="Json.LeafRecord"/>s (asked for by
    /// <see cref="SourceQuery.Columns"/>): which columns each of their paths fills.</summary>
    Json.LeafColumnMap? LeafColumns => null;

    /// <summary>Streams every match's (field-filtered) <c>_source</c> into <paramref name="queue"/>.
    /// Does not complete the queue; the caller does once all readers are done.</summary>
    Task ReadAsync(RecordBatchQueue queue, CancellationToken cancellationToken);
}
