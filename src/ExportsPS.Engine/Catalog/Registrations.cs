using System.Text.Json;
using System.Text.Json.Serialization;

namespace ExportsPS.Engine.Catalog;

/// <summary>Named configuration objects (sources, storage targets) as JSON in the catalog's registrations,
/// and a cache of what each one builds (a client, a store), rebuilt when its registration changes so a
/// re-registration takes effect at once in every process.</summary>
public static class Registrations
{
    static readonly JsonSerializerOptions JsonOptions = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static T? Load<T>(IExportCatalog catalog, string kind, string name) where T : class =>
        catalog.FindRegistration(kind, name) is { } json ? JsonSerializer.Deserialize<T>(json, JsonOptions) : null;

    public static IReadOnlyList<T> List<T>(IExportCatalog catalog, string kind) =>
        catalog.ListRegistrations(kind).Select(r => JsonSerializer.Deserialize<T>(r.DefinitionJson, JsonOptions)!).ToList();

    public static void Save<T>(IExportCatalog catalog, string kind, string name, T value) =>
        catalog.SaveRegistration(kind, name, JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>The exports whose <paramref name="reference"/> (their source or storage) names <paramref name="name"/>:
    /// what an unregistration would break, and what Get-ExportSource/-Storage show as UsedBy.</summary>
    public static IReadOnlyList<string> UsedBy(IExportCatalog catalog, Func<Exports.ExportDefinition, string> reference, string name) =>
        catalog.ListExports().Where(e => string.Equals(reference(e), name, StringComparison.OrdinalIgnoreCase)).Select(e => e.Name).ToList();
}

/// <summary>What registrations of one kind build, by name, rebuilt when the registration's JSON changes.</summary>
public sealed class RegistrationCache<TBuilt>(IExportCatalog catalog, string kind) where TBuilt : class
{
    readonly Dictionary<string, (string Json, TBuilt Built)> _built = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Null when nothing is registered under the name.</summary>
    public TBuilt? Get(string name, Func<TBuilt> build)
    {
        var json = catalog.FindRegistration(kind, name);
        if (json is null) return null;
        lock (_built)
        {
            if (_built.TryGetValue(name, out var cached) && cached.Json == json) return cached.Built;
            // The replaced one is not disposed: a run that started before the re-registration (credentials
            // rotated with -Force) still reads or uploads through it, and finishes with the old settings.
            // Its idle connections close on their own and the collector takes it once the run lets go.
            var created = build();
            _built[name] = (json, created);
            return created;
        }
    }

    /// <summary>Drops what was built for a registration that is gone; not disposed, for the same reason as a
    /// replaced one in <see cref="Get"/> (a run may still hold it).</summary>
    public void Forget(string name)
    {
        lock (_built) _built.Remove(name);
    }

    public IReadOnlyList<TBuilt> All()
    {
        lock (_built) return _built.Values.Select(b => b.Built).ToList();
    }
}
