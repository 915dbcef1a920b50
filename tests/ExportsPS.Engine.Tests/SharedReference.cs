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

    /// <summary>Json.NET reads a date-like string in a schema as a DateTime, so an enum of one (the TLP marking
    /// definitions' created, "2017-01-20T00:00:00.000Z") never equals the string in a document. Such enum values
    /// are turned back into the schema's text (STIX's one timestamp form), through every referenced schema.</summary>
    static JsonSchema WithDatesAsText(Func<JsonSchema> load)
    {
        var schema = load();
        var seen = new HashSet<JsonSchema>();
        void Visit(JsonSchema? node)
        {
            if (node is null || !seen.Add(node)) return;
            var dates = node.Enumeration.OfType<DateTime>().ToList();
            foreach (var date in dates)
            {
                node.Enumeration.Remove(date);
                node.Enumeration.Add(date.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            }
            Visit(node.Reference);
            Visit(node.Item);
            Visit(node.Not);
            Visit(node.AdditionalPropertiesSchema);
            Visit(node.AdditionalItemsSchema);
            foreach (var child in node.Properties.Values.Concat(node.PatternProperties.Values).Concat(node.Definitions.Values)
                         .Concat(node.AllOf).Concat(node.AnyOf).Concat(node.OneOf).Concat(node.Items))
                Visit(child);
        }
        Visit(schema);
        return schema;
    }

    /// <summary>The OASIS schema for a STIX object type (sdos/, sros/, observables/, common/: bundle, marking-definition).</summary>
    public static JsonSchema Stix(string type)
    {
        lock (StixSchemas)
        {
            if (StixSchemas.TryGetValue(type, out var cached)) return cached;
            var root = Path.Combine(Folder, "stix2.1-json-schemas", "schemas");
            var file = type == "bundle"
                ? Path.Combine(root, "common", "bundle.json")
                : new[] { "sdos", "sros", "observables", "common" }.Select(d => Path.Combine(root, d, type + ".json")).FirstOrDefault(File.Exists)
                  ?? Path.Combine(root, "common", "cyber-observable-core.json"); // custom x- objects are observable-shaped
            return StixSchemas[type] = WithDatesAsText(() => JsonSchema.FromFileAsync(file).GetAwaiter().GetResult());
        }
    }
}
