using System.Management.Automation;
using System.Xml.Linq;

namespace ExportsPS.Module.Tests;

/// <summary>Get-Help is complete for every exported command (PSScriptAnalyzer's rule, as a test), the
/// documented parameters are exactly the real ones, and every output type has a default view.</summary>
public sealed class HelpTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    static readonly HashSet<string> Common = new(Cmdlet.CommonParameters.Concat(Cmdlet.OptionalCommonParameters), StringComparer.OrdinalIgnoreCase);

    public static TheoryData<string> Commands()
    {
        using var ps = new PowerShellSession();
        var data = new TheoryData<string>();
        foreach (var name in ps.Ok("(Get-Module ExportsPS).ExportedCommands.Keys")) data.Add(name.ToString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_command_has_synopsis_description_examples_and_help_for_every_parameter(string command)
    {
        var help = _ps.Ok($"Get-Help {command} -Full").Single();
        var synopsis = help.Properties["Synopsis"].Value?.ToString()?.Trim() ?? "";
        Assert.False(string.IsNullOrEmpty(synopsis), "no synopsis");
        Assert.False(synopsis.StartsWith(command + " ", StringComparison.OrdinalIgnoreCase), $"auto-generated synopsis: {synopsis}");

        var description = _ps.Ok($"(Get-Help {command} -Full).description | ForEach-Object Text");
        Assert.NotEmpty(description);
        var examples = _ps.Ok($"@((Get-Help {command} -Full).examples.example).Count").Single();
        Assert.True((int)examples.BaseObject >= 1, "no example");

        var documented = _ps.Ok($"(Get-Help {command} -Full).parameters.parameter | ForEach-Object name")
            .Select(p => p.ToString()!).Where(p => !Common.Contains(p)).OrderBy(p => p).ToList();
        var real = _ps.Ok($"(Get-Command {command}).Parameters.Keys").Select(p => p.ToString()!)
            .Where(p => !Common.Contains(p)).OrderBy(p => p).ToList();
        Assert.Equal(real, documented);
        foreach (var parameter in documented)
        {
            var text = _ps.Ok($"(Get-Help {command} -Parameter {parameter}).description | ForEach-Object Text");
            Assert.True(text.Any(t => t.ToString()!.Trim().Length > 10), $"-{parameter} has no help");
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Documented_parameter_types_and_pipeline_input_are_the_real_ones(string command)
    {
        // One line per parameter: name, help's type and pipeline input, then the cmdlet's own; help is hand-written
        // markdown, so a parameter that became an array or took pipeline input by value must be documented again.
        var lines = _ps.Ok($$"""
            foreach ($p in (Get-Command {{command}}).Parameters.Values) {
                if ([System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters -contains $p.Name) { continue }
                $help = Get-Help {{command}} -Parameter $p.Name
                $type = $p.ParameterType
                if ($type.IsGenericType -and $type.GetGenericTypeDefinition() -eq [Nullable`1]) { $type = $type.GetGenericArguments()[0] }
                $kinds = foreach ($a in $p.Attributes) { if ($a -is [System.Management.Automation.ParameterAttribute]) {
                    if ($a.ValueFromPipeline) { 'ByValue' }; if ($a.ValueFromPipelineByPropertyName) { 'ByPropertyName' } } }
                '{0}|{1}|{2}|{3}|{4}' -f $p.Name, $help.type.name, $help.pipelineInput, $type.Name, (@($kinds) -join ', ')
            }
            """).Select(l => l.ToString()!.Split('|')).ToList();
        Assert.NotEmpty(lines);
        // "True (ByPropertyName, ByValue)" and "ByValue, ByPropertyName" name the same kinds; "False" names none.
        static string Kinds(string text) => string.Join(", ", text.Replace("True (", "").Replace(")", "").Split(", ")
            .Where(k => k is "ByValue" or "ByPropertyName").Distinct().Order());
        foreach (var line in lines)
        {
            Assert.True(string.Equals(line[1], line[3], StringComparison.OrdinalIgnoreCase), $"-{line[0]} is documented as {line[1]} but is {line[3]}");
            Assert.True(Kinds(line[2]) == Kinds(line[4]), $"-{line[0]} is documented to take pipeline input '{line[2]}' but takes '{line[4]}'");
        }
    }

    [Fact]
    public void The_about_topic_is_available()
    {
        var about = _ps.Ok("Get-Help about_ExportsPS | ForEach-Object { $_.ToString() }");
        Assert.Contains("EXPORTSPS_HOME", string.Join("\n", about));
    }

    [Fact]
    public void Every_output_type_has_a_default_view()
    {
        var types = _ps.Ok("[ExportsPS.ExportInfo].Assembly.GetExportedTypes() | Where-Object { $_.Namespace -eq 'ExportsPS' -and $_.IsClass } | ForEach-Object FullName")
            .Select(t => t.ToString()!).ToList();
        Assert.Contains("ExportsPS.ExportRunInfo", types);
        var formatFile = XDocument.Load(Path.Combine(Path.GetDirectoryName(PowerShellSession.ModulePath)!, "ExportsPS.format.ps1xml"));
        var viewed = formatFile.Descendants("TypeName").Select(t => t.Value.Trim()).ToHashSet();
        Assert.All(types, type => Assert.Contains(type, viewed));
    }

    /// <summary>A column naming a property the type does not have renders empty, silently: every PropertyName and
    /// every $_.Name in a view's script blocks must be a property of the type the view is for.</summary>
    [Fact]
    public void Every_view_column_names_a_property_its_type_has()
    {
        var formatFile = XDocument.Load(Path.Combine(Path.GetDirectoryName(PowerShellSession.ModulePath)!, "ExportsPS.format.ps1xml"));
        var checkedColumns = 0;
        foreach (var view in formatFile.Descendants("View"))
        {
            var type = view.Descendants("TypeName").Single().Value.Trim();
            var properties = _ps.Ok($"[{type}].GetProperties() | ForEach-Object Name").Select(p => p.ToString()!).ToHashSet();
            var named = view.Descendants("PropertyName").Select(p => p.Value.Trim())
                .Concat(view.Descendants("ScriptBlock").SelectMany(b => System.Text.RegularExpressions.Regex.Matches(b.Value, @"\$_\.(\w+)").Select(m => m.Groups[1].Value)));
            foreach (var property in named)
            {
                Assert.True(properties.Contains(property), $"{type}'s view names '{property}', which it does not have");
                checkedColumns++;
            }
        }
        Assert.True(checkedColumns > 40, $"only {checkedColumns} columns found");
        // A failed run's row says why (its error code); the message is on the object.
        Assert.Contains(formatFile.Descendants("View").Single(v => v.Element("Name")!.Value == "ExportsPS.ExportRunInfo").Descendants("PropertyName"), p => p.Value == "ErrorCode");
    }
}
