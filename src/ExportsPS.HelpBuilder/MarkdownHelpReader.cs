using System.Text.RegularExpressions;

namespace ExportsPS.HelpBuilder;

/// <summary>Reads platyPS's markdown schema 2.0: ## sections, ### sub-entries, fenced code, and a yaml
/// block of metadata per parameter. Fails with the file and the missing part when help is incomplete.</summary>
public static partial class MarkdownHelpReader
{
    [GeneratedRegex(@"^\[(?<text>[^\]]+)\]\((?<uri>[^)]*)\)")]
    private static partial Regex Link();

    public static CommandHelp Read(string markdown, string origin)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n').ToList();
        var position = 0;
        if (lines.Count > 0 && lines[0].Trim() == "---")
        {
            position = lines.FindIndex(1, l => l.Trim() == "---") + 1;
            if (position == 0) throw Incomplete(origin, "the front matter is not closed with ---");
        }
        var name = lines.Skip(position).FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim()
                   ?? throw Incomplete(origin, "a '# Command-Name' title");
        var sections = Sections(lines.Skip(position).ToList(), "## ");

        var synopsis = string.Join(' ', Paragraphs(Section(sections, "SYNOPSIS")));
        var description = Paragraphs(Section(sections, "DESCRIPTION"));
        if (synopsis.Length == 0) throw Incomplete(origin, "a SYNOPSIS");
        if (description.Count == 0) throw Incomplete(origin, "a DESCRIPTION");

        var syntax = Sections(Section(sections, "SYNTAX"), "### ").Select(s =>
        {
            var isDefault = s.Key.EndsWith("(Default)", StringComparison.Ordinal);
            var setName = isDefault ? s.Key[..^"(Default)".Length].Trim() : s.Key;
            return new SyntaxSet(setName, isDefault, Code(s.Value).Trim());
        }).ToList();

        var examples = Sections(Section(sections, "EXAMPLES"), "### ").Select(s =>
            new ExampleHelp(s.Key, Code(s.Value).Trim(), Paragraphs(WithoutCode(s.Value)))).ToList();
        if (examples.Count == 0) throw Incomplete(origin, "at least one example under ## EXAMPLES");

        var parameters = Sections(Section(sections, "PARAMETERS"), "### ")
            .Where(s => s.Key.StartsWith('-'))
            .Select(s => Parameter(s.Key[1..], s.Value, origin)).ToList();

        List<TypeHelp> Types(string title) => Sections(Section(sections, title), "### ")
            .Select(s => new TypeHelp(s.Key, Paragraphs(s.Value))).ToList();

        var links = Section(sections, "RELATED LINKS").Select(l => Link().Match(l.Trim())).Where(m => m.Success)
            .Select(m => new LinkHelp(m.Groups["text"].Value, m.Groups["uri"].Value)).ToList();

        return new CommandHelp(name, synopsis, description, syntax, examples, parameters,
            Types("INPUTS"), Types("OUTPUTS"), Paragraphs(Section(sections, "NOTES")), links);
    }

    static ParameterHelp Parameter(string name, List<string> body, string origin)
    {
        var yaml = Code(body, "yaml");
        if (yaml.Length == 0) throw Incomplete(origin, $"the ```yaml block of parameter -{name}");
        var fields = yaml.Split('\n').Where(l => l.Contains(':'))
            .ToDictionary(l => l[..l.IndexOf(':')].Trim(), l => l[(l.IndexOf(':') + 1)..].Trim(), StringComparer.OrdinalIgnoreCase);
        string Field(string key) => fields.TryGetValue(key, out var value) ? value : "";
        var description = Paragraphs(WithoutCode(body));
        if (description.Count == 0) throw Incomplete(origin, $"a description of parameter -{name}");
        return new ParameterHelp(name, description, Field("Type"),
            Field("Parameter Sets").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Field("Aliases").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Field("Required"), Field("Position"), Field("Default value"), Field("Accept pipeline input"),
            Field("Accept wildcard characters").Equals("True", StringComparison.OrdinalIgnoreCase));
    }

    static InvalidDataException Incomplete(string origin, string what) => new($"{origin}: the help is missing {what}.");

    /// <summary>Splits lines into titled sections by a heading prefix, in order; text before the first heading is dropped.</summary>
    static List<KeyValuePair<string, List<string>>> Sections(List<string> lines, string prefix)
    {
        var result = new List<KeyValuePair<string, List<string>>>();
        var inCode = false;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) inCode = !inCode;
            if (!inCode && line.StartsWith(prefix, StringComparison.Ordinal))
                result.Add(new(line[prefix.Length..].Trim(), new List<string>()));
            else if (result.Count > 0)
                result[^1].Value.Add(line);
        }
        return result;
    }

    static List<string> Section(List<KeyValuePair<string, List<string>>> sections, string title) =>
        sections.FirstOrDefault(s => s.Key.Equals(title, StringComparison.OrdinalIgnoreCase)).Value ?? new List<string>();

    /// <summary>The first fenced code block (optionally of a language) in the lines.</summary>
    static string Code(List<string> lines, string? language = null)
    {
        var start = lines.FindIndex(l => l.TrimStart().StartsWith("```", StringComparison.Ordinal) &&
                                         (language is null || l.Trim().Equals("```" + language, StringComparison.OrdinalIgnoreCase)));
        if (start < 0) return "";
        var end = lines.FindIndex(start + 1, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
        return string.Join('\n', lines.Skip(start + 1).Take((end < 0 ? lines.Count : end) - start - 1));
    }

    static List<string> WithoutCode(List<string> lines)
    {
        var result = new List<string>();
        var inCode = false;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
            if (!inCode) result.Add(line);
        }
        return result;
    }

    /// <summary>Blank-line separated paragraphs, each joined into one line of text.</summary>
    static List<string> Paragraphs(List<string> lines)
    {
        var result = new List<string>();
        var current = new List<string>();
        foreach (var line in WithoutCode(lines).Append(""))
        {
            if (line.Trim().Length == 0)
            {
                if (current.Count > 0) result.Add(string.Join(' ', current));
                current.Clear();
            }
            else current.Add(line.Trim());
        }
        return result;
    }
}
