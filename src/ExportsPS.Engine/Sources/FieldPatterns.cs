using System.Text.RegularExpressions;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Sources;

/// <summary>Field patterns as OpenSearch's <c>_source.includes</c> and <c>_field_caps</c> understand them:
/// <c>*</c> for any run of characters (dots included), <c>?</c> for one.</summary>
public static class FieldPatterns
{
    public static bool IsPattern(string field) => field.IndexOfAny(['*', '?']) >= 0;

    /// <summary>How many of an index's fields a csv without -Field takes, @timestamp first: a readable sheet, not
    /// every one of an ECS index's hundreds. A run that leaves fields out says so in a warning.</summary>
    public const int DefaultColumnCount = 25;

    /// <summary>Each pattern becomes the known fields it matches (in <paramref name="known"/>'s order);
    /// exact names stay as given. A pattern matching nothing is an error, not a silently empty column set.</summary>
    public static IReadOnlyList<string> Expand(IReadOnlyList<string> fields, IReadOnlyList<string> known, string index)
    {
        var expanded = new List<string>();
        foreach (var field in fields)
        {
            if (!IsPattern(field)) { expanded.Add(field); continue; }
            var pattern = new Regex("^" + Regex.Escape(field).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);
            var matches = known.Where(f => pattern.IsMatch(f)).ToList();
            if (matches.Count == 0)
                throw new ExportException(ExportErrorCode.InvalidField,
                    $"The field pattern '{field}' matches no field of index '{index}'. Get-ExportIndex or Test-ExportSource -Field '*' lists the fields.", field);
            expanded.AddRange(matches);
        }
        return expanded.Distinct(StringComparer.Ordinal).ToList();
    }
}
