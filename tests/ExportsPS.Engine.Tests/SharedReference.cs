using NJsonSchema;

namespace ExportsPS.Engine.Tests;

/// <summary>The official MISP and STIX 2.1 schemas in ../shared/reference (beside the repository in CI
/// and on every developer machine), loaded once with their cross-file references.</summary>
public static class SharedReference
{
    public static string Folder { get; } = Find();

    static string Find()
    {
        if (Environment.GetEnvironmentVariable("EXPORTSPS_SHARED_REFERENCE") is { Length: > 0 } configured) return configured;
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "shared", "reference");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("shared/reference not found above " + AppContext.BaseDirectory + " (set EXPORTSPS_SHARED_REFERENCE)");
    }

    /// <summary>MISP's schema keeps its definitions under "defs", which NJsonSchema does not resolve
    /// references into; renamed to the standard "definitions" (same meaning) before parsing.</summary>
    static readonly Lazy<JsonSchema> MispSchema = new(() =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(Folder, "misp-schema", "schema-lax.json"))
            .Replace("\"defs\"", "\"definitions\"").Replace("#/defs/", "#/definitions/")).GetAwaiter().GetResult());

    static readonly Dictionary<string, JsonSchema> StixSchemas = new();

    public static JsonSchema Misp => MispSchema.Value;

    /// <summary>The OASIS schema for a STIX object type (sdos/, sros/, observables/, or common/bundle.json).</summary>
    public static JsonSchema Stix(string type)
    {
        lock (StixSchemas)
        {
            if (StixSchemas.TryGetValue(type, out var cached)) return cached;
            var root = Path.Combine(Folder, "stix2.1-json-schemas", "schemas");
            var file = type == "bundle"
                ? Path.Combine(root, "common", "bundle.json")
                : new[] { "sdos", "sros", "observables" }.Select(d => Path.Combine(root, d, type + ".json")).FirstOrDefault(File.Exists)
                  ?? Path.Combine(root, "common", "cyber-observable-core.json"); // custom x- objects are observable-shaped
            return StixSchemas[type] = JsonSchema.FromFileAsync(file).GetAwaiter().GetResult();
        }
    }
}
