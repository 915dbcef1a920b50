using System.Text.RegularExpressions;
using ExportsPS.Engine.Exports;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.Util;
using Lucene.Net.Index;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Directory = Lucene.Net.Store.Directory;

namespace ExportsPS.Engine.Sources.Embedded;

/// <summary>Where embedded indexes live: one Lucene index (and its mapping.json) per index name under
/// <c>indexes/</c> in the data folder.</summary>
public sealed partial class EmbeddedIndexStore
{
    readonly string _root;

    public EmbeddedIndexStore(ExportsHome home) => _root = home.IndexesFolder;

    public string Root => _root;

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex IndexNamePattern();

    /// <summary>OpenSearch's index-name rules (lowercase, no path characters), which also keep the name
    /// inside the data folder.</summary>
    public static void ValidateName(string index)
    {
        if (string.IsNullOrEmpty(index) || !IndexNamePattern().IsMatch(index) || index.Contains(".."))
            throw new ExportException(ExportErrorCode.UnknownIndex,
                $"'{index}' is not a valid index name. Use lowercase letters, digits, '.', '_' and '-' " +
                "(starting with a letter or digit), e.g. 'events' or 'attributes'.", index);
    }

    public string FolderOf(string index)
    {
        ValidateName(index);
        return Path.Combine(_root, index);
    }

    public bool Exists(string index)
    {
        ValidateName(index);
        var folder = FolderOf(index);
        return System.IO.Directory.Exists(folder) && DirectoryReader.IndexExists(OpenDirectory(folder));
    }

    public IReadOnlyList<string> List() =>
        System.IO.Directory.Exists(_root)
            ? System.IO.Directory.GetDirectories(_root).Select(Path.GetFileName).OfType<string>()
                .Where(n => IndexNamePattern().IsMatch(n) && Exists(n)).OrderBy(n => n, StringComparer.Ordinal).ToList()
            : Array.Empty<string>();

    /// <summary>Refuses an index that does not exist, naming the ones that do.</summary>
    public string RequireExisting(string index)
    {
        if (Exists(index)) return FolderOf(index);
        var known = List();
        var hint = known.Count > 0
            ? $" Existing indexes: {string.Join(", ", known)}."
            : " No index exists yet: load data with Import-ExportData or New-ExportSampleData.";
        throw new ExportException(ExportErrorCode.UnknownIndex, $"Index '{index}' does not exist.{hint}", index);
    }

    public IndexMapping LoadMapping(string index) => IndexMapping.Load(FolderOf(index));

    internal IndexMapping LoadMappingOf(string index, string folder) => IndexMapping.Load(folder);

    public long CountDocuments(string index)
    {
        using var directory = OpenDirectory(RequireExisting(index));
        using var reader = DirectoryReader.Open(directory);
        return reader.NumDocs;
    }

    public void Delete(string index)
    {
        var folder = FolderOf(index);
        if (System.IO.Directory.Exists(folder)) System.IO.Directory.Delete(folder, recursive: true);
    }

    /// <summary>SimpleFSDirectory, not the mmap default: stored/doc-value reads are ~6× faster here; doc values
    /// are read ahead in large blocks (<see cref="DocValuesReadAheadDirectory"/>).</summary>
    internal static Directory OpenDirectory(string folder) => new DocValuesReadAheadDirectory(new SimpleFSDirectory(new DirectoryInfo(folder)));

    /// <summary>The analyzer for text fields: OpenSearch's standard analyzer, which has no stop words.</summary>
    internal static Analyzer CreateAnalyzer() => new StandardAnalyzer(LuceneVersion.LUCENE_48, CharArraySet.Empty);
}
