using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Secrets;
using ExportsPS.Engine.Sources.Embedded;
using ExportsPS.Engine.Sources.OpenSearch;

namespace ExportsPS.Engine.Sources;

/// <summary>Every source an export can name: the built-in embedded index (and sources a host adds in
/// code), plus the OpenSearch clusters registered in the catalog — rebuilt when their registration
/// changes, so Register-ExportSource -Force takes effect at once in every process.</summary>
public sealed class SourceRegistry
{
    readonly IExportCatalog _catalog;
    readonly Func<SecretVault> _vault;
    readonly Dictionary<string, IRecordSource> _builtIn = new(StringComparer.OrdinalIgnoreCase);
    readonly RegistrationCache<OpenSearchSource> _registered;

    public SourceRegistry(IExportCatalog catalog, Func<SecretVault> vault, EmbeddedSource embedded)
    {
        _catalog = catalog;
        _registered = new RegistrationCache<OpenSearchSource>(catalog, OpenSearchSettings.RegistrationKind);
        _vault = vault;
        _builtIn[embedded.Name] = embedded;
    }

    public void Add(IRecordSource source) => _builtIn[source.Name] = source;

    public IRecordSource Get(string name)
    {
        if (_builtIn.TryGetValue(name, out var source)) return source;
        return _registered.Get(name, () => new OpenSearchSource(OpenSearchSettings.Load(_catalog, name)!, _vault()))
            ?? throw new ExportException(ExportErrorCode.InvalidOption,
                $"Source '{name}' is not registered. Register-ExportSource adds one; Get-ExportSource lists them (built in: {string.Join(", ", _builtIn.Keys)}).", name);
    }

    public IReadOnlyList<string> BuiltInNames => _builtIn.Keys.ToList();

    public IReadOnlyList<OpenSearchSettings> Registered() => OpenSearchSettings.List(_catalog);

    public void Register(OpenSearchSettings settings, bool replace)
    {
        settings.Validate();
        if (_builtIn.ContainsKey(settings.Name))
            throw new ExportException(ExportErrorCode.InvalidName, $"'{settings.Name}' is a built-in source; choose another -Name.", settings.Name);
        if (!replace && _catalog.FindRegistration(OpenSearchSettings.RegistrationKind, settings.Name) is not null)
            throw new ExportException(ExportErrorCode.DuplicateName,
                $"A source named '{settings.Name}' is already registered. Add -Force to replace it.", settings.Name);
        settings.Save(_catalog);
    }

    /// <summary>What <c>Test-ExportSource</c> shows: the backend, how exports read it, whether the index exists
    /// and which concrete fields the requested ones (patterns included) are.</summary>
    public async Task<SourceProbe> ProbeAsync(string name, string? index, IReadOnlyList<string> fields, CancellationToken token)
    {
        var source = Get(name);
        if (source is OpenSearchSource cluster) return await cluster.ProbeAsync(index, fields, token);
        if (source is not EmbeddedSource embedded)
            return new SourceProbe
            {
                Name = source.Name, Url = "", Distribution = source.GetType().Name, Version = "", ClusterName = "",
                SupportsPointInTime = false, SupportsShardDoc = false, ReadMode = "custom", SortKey = "",
            };
        var probe = new SourceProbe
        {
            Name = source.Name, Url = embedded.Store.Root, Distribution = "embedded (Lucene.NET)",
            Version = typeof(Lucene.Net.Index.DirectoryReader).Assembly.GetName().Version?.ToString() ?? "", ClusterName = Environment.MachineName,
            SupportsPointInTime = true, SupportsShardDoc = false, ReadMode = "Snapshot", SortKey = "index order",
        };
        if (index is null) return probe;
        if (!embedded.Store.Exists(index)) return probe with { Index = index, ResolvedIndex = index, IndexExists = false };
        return probe with
        {
            Index = index, ResolvedIndex = index, IndexExists = true, DocumentCount = embedded.Store.CountDocuments(index),
            Fields = fields.Count == 0 ? Array.Empty<string>() : ExpandAndCheck(embedded, index, fields),
        };
    }

    static IReadOnlyList<string> ExpandAndCheck(IRecordSource source, string index, IReadOnlyList<string> fields)
    {
        var expanded = source.ExpandFields(index, fields);
        source.Validate(new SourceQuery(index, "*", expanded, "@timestamp", null, null));
        return expanded;
    }

    /// <summary>Refuses while exports read from the source: they would fail at their next run.</summary>
    public void Unregister(string name)
    {
        if (_builtIn.ContainsKey(name))
            throw new ExportException(ExportErrorCode.InvalidOption, $"'{name}' is built in and cannot be unregistered.", name);
        if (_catalog.FindRegistration(OpenSearchSettings.RegistrationKind, name) is null)
            throw new ExportException(ExportErrorCode.InvalidOption, $"No source named '{name}' is registered. Get-ExportSource lists them.", name);
        var users = Registrations.UsedBy(_catalog, e => e.Source, name);
        if (users.Count > 0)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Source '{name}' is used by export(s) {string.Join(", ", users)}. Remove them (Remove-Export) first.", name);
        _catalog.RemoveRegistration(OpenSearchSettings.RegistrationKind, name);
        _registered.Forget(name);
    }
}
