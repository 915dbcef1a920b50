using ExportsPS.HelpBuilder;

// exportsps-helpbuilder <docs folder> <output folder (en-US)>
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: exportsps-helpbuilder <docs folder> <output folder>");
    return 2;
}
var (docs, output) = (args[0], args[1]);
Directory.CreateDirectory(output);
try
{
    var commands = Directory.EnumerateFiles(docs, "*-*.md").OrderBy(f => f, StringComparer.Ordinal)
        .Select(f => MarkdownHelpReader.Read(File.ReadAllText(f), f)).ToList();
    using (var maml = File.Create(Path.Combine(output, "ExportsPS.dll-Help.xml"))) MamlWriter.Write(commands, maml);
    foreach (var about in Directory.EnumerateFiles(docs, "about_*.md"))
        File.WriteAllText(Path.Combine(output, Path.GetFileNameWithoutExtension(about) + ".help.txt"), AboutTopicWriter.Convert(File.ReadAllText(about)));
    Console.WriteLine($"help: {commands.Count} commands -> {Path.Combine(output, "ExportsPS.dll-Help.xml")}");
    return 0;
}
catch (InvalidDataException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
