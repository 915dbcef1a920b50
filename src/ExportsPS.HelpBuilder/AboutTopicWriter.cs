using System.Text;

namespace ExportsPS.HelpBuilder;

/// <summary>Turns an about_ topic's markdown into the plain-text layout Get-Help shows: section titles
/// in capitals, text indented four spaces, code kept as written.</summary>
public static class AboutTopicWriter
{
    public static string Convert(string markdown)
    {
        var text = new StringBuilder();
        foreach (var raw in markdown.Replace("\r\n", "\n").Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.StartsWith("# ", StringComparison.Ordinal)) text.Append("TOPIC\n    ").Append(line[2..].Trim()).Append('\n');
            else if (line.StartsWith("## ", StringComparison.Ordinal)) text.Append('\n').Append(line[3..].Trim().ToUpperInvariant()).Append('\n');
            else if (line.StartsWith("### ", StringComparison.Ordinal)) text.Append('\n').Append("  ").Append(line[4..].Trim().ToUpperInvariant()).Append('\n');
            else if (line.Length == 0) text.Append('\n');
            else text.Append("    ").Append(line).Append('\n');
        }
        return text.ToString();
    }
}
