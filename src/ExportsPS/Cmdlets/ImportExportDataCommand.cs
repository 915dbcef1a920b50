using System.Collections;
using System.Management.Automation;
using System.Text.Json;
using ExportsPS.Completers;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Sources.Embedded;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Import-ExportData: loads JSON arrays, JSONL, .gz files or pipeline objects into an embedded
/// index, in one commit (a bad document anywhere imports nothing).</summary>
[Cmdlet(VerbsData.Import, "ExportData", SupportsShouldProcess = true, DefaultParameterSetName = ObjectSet)]
[OutputType(typeof(ExportImportResult))]
public sealed class ImportExportDataCommand : ExportCmdletBase
{
    const string PathSet = "Path";
    const string ObjectSet = "InputObject";

    #region Parameters

    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(IndexNameCompleter))]
    public string Index { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>Documents: hashtables, PSCustomObjects, JSON strings, or files (FileInfo from Get-ChildItem, PathInfo from Resolve-Path).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    /// <summary>Explicit field types: @{ 'user.id' = 'keyword'; bytes = 'long' }.</summary>
    [Parameter]
    public Hashtable? Mapping { get; set; }

    /// <summary>Columns that CSV exports of this index use when they name no fields.</summary>
    [Parameter]
    public string[]? DefaultColumn { get; set; }

    /// <summary>Replaces the index's documents and mapping instead of adding to them.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    /// <summary>Indexes only the fields in -Mapping (OpenSearch dynamic: false); the others stay in the
    /// exported documents but are not searchable. Much faster for large imports.</summary>
    [Parameter]
    public SwitchParameter MappedFieldsOnly { get; set; }

    #endregion

    readonly List<string> _files = new();
    readonly List<JsonElement> _objects = new();
    long _received;

    protected override void BeginProcessing() => Invoke(() => EmbeddedIndexStore.ValidateName(Index));

    protected override void ProcessRecord()
    {
        if (ParameterSetName == PathSet)
        {
            foreach (var path in Path)
            {
                try
                {
                    _files.AddRange(GetResolvedProviderPathFromPSPath(path, out _));
                }
                catch (ItemNotFoundException ex)
                {
                    ThrowTerminatingError(new ErrorRecord(ex, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                }
            }
            return;
        }
        if (InputObject?.BaseObject is FileInfo file)
        {
            _files.Add(file.FullName);
            return;
        }
        // Resolve-Path's output names a file too (-InputObject by value wins over -Path by property name).
        if (InputObject?.BaseObject is PathInfo resolved)
        {
            _files.Add(resolved.ProviderPath);
            return;
        }
        // Blank lines (Get-Content of a JSONL file) are skipped, as an import from -Path skips them.
        if (InputObject?.BaseObject is string text && string.IsNullOrWhiteSpace(text)) return;
        _received++;
        try
        {
            // Pipeline objects are buffered only until end of input, then imported in one commit.
            var element = JsonObjects.ToJson(InputObject);
            _objects.Add(element);
        }
        catch (FormatException ex)
        {
            ThrowTerminatingError(new ErrorRecord(
                new FormatException($"Pipeline object {_received:N0} is not a document: {ex.Message}. Nothing was imported; fix or filter it out and import again.", ex),
                "InvalidData", ErrorCategory.InvalidData, InputObject));
        }
    }

    protected override void EndProcessing() => Invoke(() =>
    {
        // An empty pipeline (a drop folder with no files) imports nothing; with -Replace it must not empty the index.
        if (_files.Count == 0 && _objects.Count == 0)
        {
            WriteWarning($"Nothing to import: no files or documents were given, so index '{Index}' was left as it is.");
            return;
        }
        var what = _objects.Count == 0 ? string.Join(", ", _files) : $"{_objects.Count} objects";
        if (!ShouldProcess(Index, $"{(Replace ? "Replace" : "Import into")} embedded index from {what}")) return;
        var service = EngineAccess.Service();
        var documents = _files.SelectMany(f => EmbeddedImporter.ReadFile(f, Stopping)).Concat(_objects);
        var options = new ImportOptions
        {
            Replace = Replace,
            DefaultColumns = DefaultColumn,
            Mapping = ToMapping(Mapping),
            MappedFieldsOnly = MappedFieldsOnly,
        };
        var result = ImportWithProgress(this, service, Index, documents, options, Stopping);
        WriteObject(result);
    });

    internal static Dictionary<string, string> ToMapping(Hashtable? mapping) =>
        mapping?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "")
        ?? new Dictionary<string, string>();

    internal static ExportImportResult ImportWithProgress(Cmdlet cmdlet, ExportService service, string index,
        IEnumerable<JsonElement> documents, ImportOptions options, CancellationToken stopping)
    {
        var counter = new Counter();
        var import = Task.Run(() => service.Import(index, documents, options, counter, stopping));
        var progress = new ProgressRecord(4, $"Importing into '{index}'", "Starting");
        long last = -1;
        while (!import.Wait(200))
        {
            if (counter.Value == last) continue;
            last = counter.Value;
            progress.StatusDescription = $"{last:N0} documents";
            cmdlet.WriteProgress(progress);
        }
        var result = import.GetAwaiter().GetResult();
        if (last >= 0) cmdlet.WriteProgress(new ProgressRecord(progress.ActivityId, progress.Activity, $"{result.Documents:N0} documents") { RecordType = ProgressRecordType.Completed });
        return new ExportImportResult
        {
            Index = result.Index,
            Documents = result.Documents,
            MalformedValues = result.MalformedValues,
            TotalDocuments = result.TotalDocuments,
            Duration = result.Duration,
        };
    }

    sealed class Counter : IProgress<long>
    {
        long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Report(long value) => Interlocked.Exchange(ref _value, value);
    }
}
