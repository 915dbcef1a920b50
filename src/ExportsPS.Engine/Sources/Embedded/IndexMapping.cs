using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Sources.Embedded;

/// <summary>Field types of the embedded index, named as OpenSearch names them.</summary>
public enum FieldKind { Text, Keyword, Date, Long, Double, Boolean }

/// <summary>An embedded index's mapping, following OpenSearch's dynamic-mapping rules: a string becomes a
/// date when it is an ISO date, otherwise analysed <c>text</c> with an exact <c>.keyword</c> subfield;
/// whole numbers become long, fractions double, booleans boolean. The first value seen decides, as in
/// OpenSearch. Persisted as mapping.json beside the index.</summary>
public sealed class IndexMapping
{
    public const string KeywordSuffix = ".keyword";
    /// <summary>OpenSearch's index.mapping.total_fields.limit. Documents with ever-new keys (a map keyed by user or
    /// IP) would otherwise grow the mapping without end, and a term without a field, which searches every field
    /// that can hold it, would exceed Lucene's 1,024 clauses. Counted in leaf fields (OpenSearch also counts objects and
    /// .keyword subfields, so it refuses a little sooner).</summary>
    public const int MaxFields = 1000;
    const string FileName = "mapping.json";

    [JsonInclude] public Dictionary<string, FieldKind> Fields { get; private set; } = new(StringComparer.Ordinal);
    /// <summary>First-seen order of fields, which CSV uses when no field list is given.</summary>
    [JsonInclude] public List<string> FieldOrder { get; private set; } = new();
    /// <summary>Columns a CSV export uses without a field list; set by the sample generator or the user.</summary>
    [JsonInclude] public List<string> DefaultColumns { get; set; } = new();
    /// <summary>OpenSearch's <c>dynamic</c>: when false, fields not in the mapping stay in <c>_source</c>
    /// (and in exports) but are not indexed, which makes large imports several times faster.</summary>
    [JsonInclude] public bool Dynamic { get; set; } = true;

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static IndexMapping Load(string indexFolder)
    {
        var path = Path.Combine(indexFolder, FileName);
        if (!File.Exists(path)) return new IndexMapping();
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<IndexMapping>(stream, JsonOptions) ?? new IndexMapping();
    }

    public void Save(string indexFolder)
    {
        var path = Path.Combine(indexFolder, FileName);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The kind of a queryable field; <c>x.keyword</c> is the exact subfield of text field x.</summary>
    public FieldKind? Lookup(string field)
    {
        if (Fields.TryGetValue(field, out var kind)) return kind;
        if (field.EndsWith(KeywordSuffix, StringComparison.Ordinal) &&
            Fields.TryGetValue(field[..^KeywordSuffix.Length], out var parent) && parent == FieldKind.Text)
            return FieldKind.Keyword;
        return null;
    }

    /// <summary>True when <paramref name="field"/> is a leaf field or an object holding leaf fields.</summary>
    public bool Knows(string field)
    {
        if (Lookup(field) is not null) return true;
        var prefix = field + ".";
        return Fields.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
    }

    public void SetExplicit(string field, FieldKind kind)
    {
        if (Fields.TryGetValue(field, out var existing) && existing != kind)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Field '{field}' is already mapped as {existing.ToString().ToLowerInvariant()}; it cannot become " +
                $"{kind.ToString().ToLowerInvariant()}. Import into a new index to change a field's type.", field);
        if (!Fields.ContainsKey(field) && Fields.Count >= MaxFields)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"-Mapping would give the index more than {MaxFields:N0} fields, its limit (as OpenSearch's index.mapping.total_fields.limit). Map fewer fields.", field);
        Add(field, kind);
    }

    /// <summary>The kind <paramref name="field"/> is mapped as; null when it is not mapped (yet).</summary>
    public FieldKind? Mapped(string field)
    {
        lock (_gate) return Fields.TryGetValue(field, out var kind) ? kind : null;
    }

    /// <summary>The kind for a value at <paramref name="field"/>, mapping the field on first sight; null
    /// when the field is unmapped and the mapping is not dynamic.</summary>
    public FieldKind? Observe(string field, JsonElement value)
    {
        // Imports build documents on several threads; new fields are rare, so one lock is cheap.
        lock (_gate) return ObserveLocked(field, value);
    }

    readonly object _gate = new();

    FieldKind? ObserveLocked(string field, JsonElement value)
    {
        if (Fields.TryGetValue(field, out var kind)) return kind;
        if (!Dynamic) return null;
        if (Fields.Count >= MaxFields)
            throw new FormatException(
                $"its field '{field}' would take the index over its limit of {MaxFields:N0} fields (as OpenSearch's " +
                "index.mapping.total_fields.limit). Documents with ever-new keys need -Mapping naming the fields to search and " +
                "-MappedFieldsOnly: the other fields stay in the exported documents without being indexed");
        kind = value.ValueKind switch
        {
            JsonValueKind.String => LooksLikeDate(Json.JsonText.String(value)!) ? FieldKind.Date : FieldKind.Text,
            JsonValueKind.Number => value.TryGetInt64(out _) ? FieldKind.Long : FieldKind.Double,
            JsonValueKind.True or JsonValueKind.False => FieldKind.Boolean,
            _ => FieldKind.Text,
        };
        Add(field, kind);
        return kind;
    }

    void Add(string field, FieldKind kind)
    {
        if (!Fields.ContainsKey(field)) FieldOrder.Add(field);
        Fields[field] = kind;
    }

    /// <summary>OpenSearch's default dynamic date detection: strict_date_optional_time (yyyy-MM-dd…).</summary>
    static bool LooksLikeDate(string text) =>
        text.Length >= 10 && text.Length <= 35 &&
        char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[3]) && text[4] == '-' && text[7] == '-' &&
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out _);

    public static bool TryParseKind(string text, out FieldKind kind) =>
        Enum.TryParse(text, ignoreCase: true, out kind) && Enum.IsDefined(kind);
}
