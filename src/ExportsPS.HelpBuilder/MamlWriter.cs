using System.Xml;

namespace ExportsPS.HelpBuilder;

/// <summary>Writes commands' help as MAML (ExportsPS.dll-Help.xml), the format Get-Help reads for
/// binary modules.</summary>
public static class MamlWriter
{
    const string Msh = "http://msh";
    const string Maml = "http://schemas.microsoft.com/maml/2004/10";
    const string Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    const string Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static void Write(IEnumerable<CommandHelp> commands, Stream output)
    {
        using var xml = XmlWriter.Create(output, new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) });
        xml.WriteStartDocument();
        xml.WriteStartElement("helpItems", Msh);
        xml.WriteAttributeString("schema", "maml");
        xml.WriteAttributeString("xmlns", "maml", null, Maml);
        xml.WriteAttributeString("xmlns", "command", null, Command);
        xml.WriteAttributeString("xmlns", "dev", null, Dev);
        foreach (var help in commands) WriteCommand(xml, help);
        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    static void WriteCommand(XmlWriter xml, CommandHelp help)
    {
        var dash = help.Name.IndexOf('-');
        xml.WriteStartElement("command", "command", Command);
        xml.WriteStartElement("command", "details", Command);
        xml.WriteElementString("command", "name", Command, help.Name);
        xml.WriteElementString("command", "verb", Command, dash > 0 ? help.Name[..dash] : help.Name);
        xml.WriteElementString("command", "noun", Command, dash > 0 ? help.Name[(dash + 1)..] : "");
        Paragraphs(xml, "description", [help.Synopsis]);
        xml.WriteEndElement();
        Paragraphs(xml, "description", help.Description);

        xml.WriteStartElement("command", "syntax", Command);
        foreach (var set in help.Syntax)
        {
            xml.WriteStartElement("command", "syntaxItem", Command);
            xml.WriteElementString("maml", "name", Maml, help.Name);
            foreach (var parameter in help.Parameters.Where(p => p.AppliesTo(set.Name) && !IsRiskParameterOutside(p, set)))
                WriteParameter(xml, parameter, set.Name);
            xml.WriteEndElement();
        }
        xml.WriteEndElement();

        xml.WriteStartElement("command", "parameters", Command);
        foreach (var parameter in help.Parameters) WriteParameter(xml, parameter, null);
        xml.WriteEndElement();

        Types(xml, "inputTypes", "inputType", help.Inputs);
        Types(xml, "returnValues", "returnValue", help.Outputs);

        xml.WriteStartElement("maml", "alertSet", Maml);
        foreach (var note in help.Notes)
        {
            xml.WriteStartElement("maml", "alert", Maml);
            xml.WriteElementString("maml", "para", Maml, note);
            xml.WriteEndElement();
        }
        xml.WriteEndElement();

        xml.WriteStartElement("command", "examples", Command);
        foreach (var example in help.Examples)
        {
            xml.WriteStartElement("command", "example", Command);
            xml.WriteElementString("maml", "title", Maml, $"-------------------------- {example.Title} --------------------------");
            xml.WriteElementString("dev", "code", Dev, example.Code);
            xml.WriteStartElement("dev", "remarks", Dev);
            foreach (var remark in example.Remarks) xml.WriteElementString("maml", "para", Maml, remark);
            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        xml.WriteEndElement();

        xml.WriteStartElement("command", "relatedLinks", Command);
        foreach (var link in help.Links)
        {
            xml.WriteStartElement("maml", "navigationLink", Maml);
            xml.WriteElementString("maml", "linkText", Maml, link.Text);
            xml.WriteElementString("maml", "uri", Maml, link.Uri.EndsWith(".md", StringComparison.Ordinal) ? "" : link.Uri);
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    /// <summary>WhatIf/Confirm appear only in sets whose syntax line shows them.</summary>
    static bool IsRiskParameterOutside(ParameterHelp parameter, SyntaxSet set) =>
        parameter.Name is "WhatIf" or "Confirm" && !set.Line.Contains("-" + parameter.Name, StringComparison.Ordinal);

    static void WriteParameter(XmlWriter xml, ParameterHelp parameter, string? set)
    {
        var isSwitch = parameter.Type == "SwitchParameter";
        xml.WriteStartElement("command", "parameter", Command);
        xml.WriteAttributeString("required", (set is null ? parameter.Required.StartsWith("True", StringComparison.OrdinalIgnoreCase) : parameter.IsRequiredIn(set)) ? "true" : "false");
        xml.WriteAttributeString("variableLength", parameter.Type.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false");
        xml.WriteAttributeString("globbing", parameter.Wildcards ? "true" : "false");
        xml.WriteAttributeString("pipelineInput", parameter.PipelineInput.Length == 0 ? "False" : parameter.PipelineInput);
        xml.WriteAttributeString("position", parameter.Position.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "named" : parameter.Position);
        xml.WriteAttributeString("aliases", parameter.Aliases.Count == 0 ? "none" : string.Join(", ", parameter.Aliases));
        xml.WriteElementString("maml", "name", Maml, parameter.Name);
        Paragraphs(xml, "description", parameter.Description);
        if (!isSwitch)
        {
            xml.WriteStartElement("command", "parameterValue", Command);
            xml.WriteAttributeString("required", "true");
            xml.WriteAttributeString("variableLength", "false");
            xml.WriteString(parameter.Type);
            xml.WriteEndElement();
        }
        xml.WriteStartElement("dev", "type", Dev);
        xml.WriteElementString("maml", "name", Maml, parameter.Type);
        xml.WriteElementString("maml", "uri", Maml, "");
        xml.WriteEndElement();
        xml.WriteElementString("dev", "defaultValue", Dev, parameter.DefaultValue);
        xml.WriteEndElement();
    }

    static void Types(XmlWriter xml, string container, string item, IReadOnlyList<TypeHelp> types)
    {
        xml.WriteStartElement("command", container, Command);
        foreach (var type in types)
        {
            xml.WriteStartElement("command", item, Command);
            xml.WriteStartElement("dev", "type", Dev);
            xml.WriteElementString("maml", "name", Maml, type.Type);
            xml.WriteEndElement();
            Paragraphs(xml, "description", type.Description);
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
    }

    static void Paragraphs(XmlWriter xml, string element, IEnumerable<string> paragraphs)
    {
        xml.WriteStartElement("maml", element, Maml);
        foreach (var paragraph in paragraphs) xml.WriteElementString("maml", "para", Maml, paragraph);
        xml.WriteEndElement();
    }
}
