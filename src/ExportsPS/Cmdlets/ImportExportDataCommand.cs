using System.Collections;
using System.Management.Automation;
using System.Text.Json;
using ExportsPS.Completers;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Sources.Embedded;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Import-ExportData: loads JSON arrays, JSONL, .gz files or pipeline objects into an embedded
/// index, in one commit (a bad document anywhere imports nothing). Input streams into the import as it
/// arrives: nothing is buffered until the end of the pipeline.</summary>
[Cmdlet(VerbsData.Import, "ExportData", SupportsShouldProcess = true, DefaultParameterSetName = ObjectSet)]
[OutputType(typeof(ExportImportResult))]
public sealed class ImportExportDataCommand : ExportCmdletBase, IDisposable
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

    StreamingImport? _import;
    bool _offered;
    bool? _objectsAccepted;
    long _received;

    protected override void BeginProcessing() => Invoke(() => EmbeddedIndexStore.ValidateName(Index));

    protected override void ProcessRecord() => Invoke(() =>
    {
        if (ParameterSetName == PathSet)
        {
            foreach (var path in Path)
            {
                IEnumerable<string> files;
                try { files = GetResolvedProviderPathFromPSPath(path, out _); }
                catch (ItemNotFoundException ex)
                {
                    ThrowTerminatingError(new ErrorRecord(ex, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                    return;
                }
                // ./logs/* means the files there: a subfolder it also matches is passed over, not an error.
                if (WildcardPattern.ContainsWildcardCharacters(path)) files = files.Where(f => !Directory.Exists(f));
                foreach (var file in files) AddFile(file);
            }
            return;
        }
        switch (InputObject?.BaseObject)
        {
            case FileInfo file:
                AddFile(file.FullName);
                return;
            // Resolve-Path's output names a file too (-InputObject by value wins over -Path by property name).
            case PathInfo resolved:
                AddFile(resolved.ProviderPath);
                return;
            // Get-ChildItem ./drop lists subfolders too: they are passed over, as -Path ./drop/* passes them over.
            case DirectoryInfo folder:
                WriteWarning($"'{folder.FullName}' is a folder, not a file of documents: passed over. To import its files, pipe them: Get-ChildItem '{folder.FullName}' -Filter *.jsonl | Import-ExportData {Index}.");
                return;
            // Blank lines (Get-Content of a JSONL file) are skipped, as an import from -Path skips them.
            case string text when string.IsNullOrWhiteSpace(text):
                return;
        }
        _received++;
        JsonElement document;
        try { document = JsonObjects.ToJson(InputObject); }
        catch (FormatException ex)
        {
            ThrowTerminatingError(new ErrorRecord(
                new FormatException($"Pipeline object {_received:N0} is not a document: {ex.Message}. Nothing was imported; fix or filter it out and import again.", ex),
                "InvalidData", ErrorCategory.InvalidData, InputObject));
            return;
        }
        _offered = true;
        // Asked once for the whole stream of objects: a prompt per object would be useless.
        _objectsAccepted ??= ShouldProcess(Index, $"{Action} embedded index from pipeline objects");
        if (_objectsAccepted != true) return;
        Started().AddDocument(document);
        _import!.ShowProgress(this);
    });

    void AddFile(string file)
    {
        // A folder is not a file of documents (and a DirectoryInfo not a document of its properties): its files were meant.
        if (Directory.Exists(file))
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"'{file}' is a folder, not a file of documents. Pipe its files instead: Get-ChildItem '{file}' -Filter *.jsonl | Import-ExportData {Index}. Nothing was imported."),
                "PathIsFolder", ErrorCategory.InvalidArgument, file));
        _offered = true;
        if (!ShouldProcess(Index, $"{Action} embedded index from '{file}'")) return;
        Started().AddFile(file);
        _import!.ShowProgress(this);
    }

    string Action => Replace ? "Replace" : "Import into";

    /// <summary>The import, started at the first accepted input: a pipeline that is all -WhatIf starts none.</summary>
    StreamingImport Started() => _import ??= StreamingImport.Start(Service(), Index, new ImportOptions
    {
        Replace = Replace,
        DefaultColumns = DefaultColumn,
        Mapping = ToMapping(Mapping),
        MappedFieldsOnly = MappedFieldsOnly,
    }, Stopping);

    protected override void EndProcessing() => Invoke(() =>
    {
        // An empty pipeline (a drop folder with no files) imports nothing; with -Replace it must not empty the index.
        if (!_offered)
        {
            WriteWarning($"Nothing to import: no files or documents were given, so index '{Index}' was left as it is.");
            return;
        }
        if (_import is null) return; // everything was declined (-WhatIf, -Confirm answered no)
        WriteObject(ToResult(_import.Complete(this)));
    });

    /// <summary>Rolls back an import the pipeline abandoned (a bad object, Ctrl+C), so nothing of it is committed.</summary>
    public void Dispose() => _import?.Dispose();

    internal static Dictionary<string, string> ToMapping(Hashtable? mapping) =>
        mapping?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "")
        ?? new Dictionary<string, string>();

    internal static ExportImportResult ImportWithProgress(Cmdlet cmdlet, ExportService service, string index,
        IEnumerable<JsonElement> documents, ImportOptions options, CancellationToken stopping) =>
        ToResult(StreamingImport.Run(cmdlet, service, index, documents, options, stopping));

    static ExportImportResult ToResult(ImportResult result) => new()
    {
        Index = result.Index,
        Documents = result.Documents,
        MalformedValues = result.MalformedValues,
        TotalDocuments = result.TotalDocuments,
        Duration = result.Duration,
    };
}
