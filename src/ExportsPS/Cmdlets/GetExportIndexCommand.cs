using System.Collections.Specialized;
using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportIndex: the embedded indexes, their document counts and field mappings.</summary>
[Cmdlet(VerbsCommon.Get, "ExportIndex")]
[OutputType(typeof(ExportIndexInfo))]
public sealed class GetExportIndexCommand : ExportCmdletBase
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(IndexNameCompleter))]
    [SupportsWildcards]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string[] Index { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        foreach (var index in Index) WriteIndexes(index);
    }

    // Per name: one that does not exist must not stop the names after it.
    void WriteIndexes(string index) => InvokeForItem(() =>
    {
        var store = Service().Indexes;
        var pattern = new WildcardPattern(index, WildcardOptions.IgnoreCase);
        var names = WildcardPattern.ContainsWildcardCharacters(index)
            ? store.List().Where(n => pattern.IsMatch(n)).ToList()
            : [index];
        foreach (var name in names)
        {
            var folder = store.RequireExisting(name);
            var mapping = store.LoadMapping(name);
            var fields = new OrderedDictionary();
            foreach (var field in mapping.FieldOrder) fields[field] = mapping.Fields[field].ToString().ToLowerInvariant();
            WriteObject(new ExportIndexInfo
            {
                Name = name,
                Documents = store.CountDocuments(name),
                Fields = mapping.FieldOrder.ToArray(),
                Mapping = fields,
                DefaultColumns = mapping.DefaultColumns.ToArray(),
                Path = folder,
            });
        }
    });
}
