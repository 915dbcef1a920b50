using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Formats;

/// <summary>The formats an export may name. New formats register here and nowhere else.</summary>
public sealed class FormatRegistry
{
    readonly Dictionary<string, ExportFormat> _formats = new(StringComparer.OrdinalIgnoreCase);

    public FormatRegistry(IEnumerable<ExportFormat> formats)
    {
        foreach (var format in formats) _formats[format.Name] = format;
    }

    public static FormatRegistry CreateDefault() => new(
    [
        new JsonArrayFormat(),
        new JsonLinesFormat(),
        new CsvFormat(),
        new Misp.MispFormat(),
        new Stix.StixFormat(),
    ]);

    public IReadOnlyCollection<ExportFormat> All => _formats.Values;
    public IEnumerable<string> Names => _formats.Keys.OrderBy(n => n, StringComparer.Ordinal);

    public ExportFormat Get(string name) =>
        _formats.TryGetValue(name ?? "", out var format)
            ? format
            : throw new ExportException(ExportErrorCode.UnknownFormat,
                $"Format '{name}' is unknown. Use one of: {string.Join(", ", Names)}.", name);
}
