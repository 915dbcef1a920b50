namespace ExportsPS.HelpBuilder;

/// <summary>One cmdlet's help, as read from its platyPS markdown.</summary>
public sealed record CommandHelp(
    string Name,
    string Synopsis,
    IReadOnlyList<string> Description,
    IReadOnlyList<SyntaxSet> Syntax,
    IReadOnlyList<ExampleHelp> Examples,
    IReadOnlyList<ParameterHelp> Parameters,
    IReadOnlyList<TypeHelp> Inputs,
    IReadOnlyList<TypeHelp> Outputs,
    IReadOnlyList<string> Notes,
    IReadOnlyList<LinkHelp> Links);

public sealed record SyntaxSet(string Name, bool IsDefault, string Line);
public sealed record ExampleHelp(string Title, string Code, IReadOnlyList<string> Remarks);
public sealed record TypeHelp(string Type, IReadOnlyList<string> Description);
public sealed record LinkHelp(string Text, string Uri);

public sealed record ParameterHelp(
    string Name,
    IReadOnlyList<string> Description,
    string Type,
    IReadOnlyList<string> ParameterSets,
    IReadOnlyList<string> Aliases,
    string Required,
    string Position,
    string DefaultValue,
    string PipelineInput,
    bool Wildcards)
{
    public bool AppliesTo(string set) => ParameterSets.Contains("(All)") || ParameterSets.Contains(set);

    /// <summary>"True", "False" or per set: "True (Path), False (InputObject)".</summary>
    public bool IsRequiredIn(string set)
    {
        if (!Required.Contains('(')) return Required.Equals("True", StringComparison.OrdinalIgnoreCase);
        foreach (var part in Required.Split(','))
        {
            var open = part.IndexOf('(');
            if (open > 0 && part[(open + 1)..].TrimEnd(')', ' ') == set) return part[..open].Trim().Equals("True", StringComparison.OrdinalIgnoreCase);
        }
        return false;
    }
}
