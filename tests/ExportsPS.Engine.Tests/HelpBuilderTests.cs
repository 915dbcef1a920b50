using System.Xml.Linq;
using ExportsPS.HelpBuilder;

namespace ExportsPS.Engine.Tests;

public sealed class HelpBuilderTests
{
    const string Markdown = """
        ---
        external help file: ExportsPS.dll-Help.xml
        schema: 2.0.0
        ---

        # Get-Thing

        ## SYNOPSIS
        Gets things.

        ## SYNTAX

        ### ByName (Default)
        ```
        Get-Thing [-Name] <String[]> [-WhatIf] [<CommonParameters>]
        ```

        ### ById
        ```
        Get-Thing -Id <Int32> [<CommonParameters>]
        ```

        ## DESCRIPTION
        First paragraph
        continues here.

        Second paragraph.

        ## EXAMPLES

        ### Example 1: All things
        ```powershell
        Get-Thing -Name *
        ```

        Lists every thing.

        ## PARAMETERS

        ### -Name
        The names.

        ```yaml
        Type: String[]
        Parameter Sets: ByName
        Aliases: N, ThingName

        Required: True
        Position: 0
        Default value: None
        Accept pipeline input: True (ByPropertyName, ByValue)
        Accept wildcard characters: True
        ```

        ### -Id
        The id.

        ```yaml
        Type: Int32
        Parameter Sets: ById
        Aliases:

        Required: True (ById), False (Other)
        Position: Named
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### -WhatIf
        Shows what would happen.

        ```yaml
        Type: SwitchParameter
        Parameter Sets: (All)
        Aliases: wi

        Required: False
        Position: Named
        Default value: False
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### CommonParameters
        This cmdlet supports the common parameters.

        ## INPUTS

        ### System.String
        Names.

        ## OUTPUTS

        ### Thing
        One per thing.

        ## NOTES
        A note.

        ## RELATED LINKS

        [Set-Thing](Set-Thing.md)
        [Online](https://example.invalid/thing)
        """;

    [Fact]
    public void Reads_every_section_of_platyps_markdown()
    {
        var help = MarkdownHelpReader.Read(Markdown, "Get-Thing.md");
        Assert.Equal("Get-Thing", help.Name);
        Assert.Equal("Gets things.", help.Synopsis);
        Assert.Equal(["First paragraph continues here.", "Second paragraph."], help.Description);
        Assert.Equal([("ByName", true), ("ById", false)], help.Syntax.Select(s => (s.Name, s.IsDefault)));
        Assert.Equal("Get-Thing -Name *", help.Examples.Single().Code);
        Assert.Equal(["Lists every thing."], help.Examples.Single().Remarks);
        Assert.Equal(["Name", "Id", "WhatIf"], help.Parameters.Select(p => p.Name));
        var name = help.Parameters[0];
        Assert.Equal(("String[]", "0", true), (name.Type, name.Position, name.Wildcards));
        Assert.Equal(["N", "ThingName"], name.Aliases);
        Assert.True(help.Parameters[1].IsRequiredIn("ById"));
        Assert.False(help.Parameters[1].IsRequiredIn("Other"));
        Assert.Equal("System.String", help.Inputs.Single().Type);
        Assert.Equal(["A note."], help.Notes);
        Assert.Equal(["Set-Thing", "Online"], help.Links.Select(l => l.Text));
    }

    [Theory]
    [InlineData("## SYNOPSIS\nGets things.", "", "a SYNOPSIS")]
    [InlineData("## EXAMPLES", "## EXAMPLES_RENAMED", "at least one example")]
    [InlineData("The names.\n", "", "a description of parameter -Name")]
    public void Incomplete_help_fails_the_build_naming_the_file_and_the_missing_part(string remove, string replacement, string missing)
    {
        var broken = Markdown.Replace(remove, replacement);
        Assert.NotEqual(Markdown, broken);
        var error = Assert.Throws<InvalidDataException>(() => MarkdownHelpReader.Read(broken, "Get-Thing.md"));
        Assert.Contains("Get-Thing.md", error.Message);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void Writes_maml_with_syntax_per_parameter_set_parameters_and_examples()
    {
        var help = MarkdownHelpReader.Read(Markdown, "Get-Thing.md");
        using var output = new MemoryStream();
        MamlWriter.Write([help], output);
        var xml = XDocument.Parse(System.Text.Encoding.UTF8.GetString(output.ToArray()));
        XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10", maml = "http://schemas.microsoft.com/maml/2004/10", dev = "http://schemas.microsoft.com/maml/dev/2004/10";
        var cmd = xml.Root!.Element(command + "command")!;
        Assert.Equal("Get-Thing", cmd.Element(command + "details")!.Element(command + "name")!.Value);
        Assert.Equal("Thing", cmd.Element(command + "details")!.Element(command + "noun")!.Value);
        var syntaxItems = cmd.Element(command + "syntax")!.Elements(command + "syntaxItem").ToList();
        Assert.Equal(2, syntaxItems.Count);
        Assert.Equal(["Name", "WhatIf"], syntaxItems[0].Elements(command + "parameter").Select(p => p.Element(maml + "name")!.Value));
        Assert.Equal(["Id"], syntaxItems[1].Elements(command + "parameter").Select(p => p.Element(maml + "name")!.Value)); // no -WhatIf in that syntax
        var nameParameter = cmd.Element(command + "parameters")!.Elements(command + "parameter").First();
        Assert.Equal(("true", "0", "true", "True (ByPropertyName, ByValue)"),
            (nameParameter.Attribute("required")!.Value, nameParameter.Attribute("position")!.Value, nameParameter.Attribute("globbing")!.Value, nameParameter.Attribute("pipelineInput")!.Value));
        Assert.Equal("Get-Thing -Name *", cmd.Descendants(dev + "code").Single().Value);
    }

    [Fact]
    public void About_topics_become_indented_text_with_capital_section_titles()
    {
        var text = AboutTopicWriter.Convert("# about_Thing\n\n## SHORT DESCRIPTION\nThings.\n\n### Sub part\nMore.");
        Assert.Equal("TOPIC\n    about_Thing\n\n\nSHORT DESCRIPTION\n    Things.\n\n\n  SUB PART\n    More.\n", text);
    }

    [Fact]
    public void The_repository_docs_all_read_without_errors()
    {
        var docs = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "docs");
        var files = Directory.GetFiles(docs, "*-*.md");
        Assert.NotEmpty(files);
        foreach (var file in files) MarkdownHelpReader.Read(File.ReadAllText(file), file);
    }
}
