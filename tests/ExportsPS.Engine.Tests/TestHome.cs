using System.Text.Json;
using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources.Embedded;

namespace ExportsPS.Engine.Tests;

/// <summary>An isolated data folder with a real SQLite catalog and a real embedded index.</summary>
public sealed class TestHome : IDisposable
{
    public static readonly DateTimeOffset SampleEnd = new(2026, 6, 19, 0, 0, 0, TimeSpan.Zero);

    public TestHome(EngineSettings? settings = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "exportsps-engine-" + Guid.NewGuid().ToString("N")[..12]);
        Home = new ExportsHome(Root);
        Home.EnsureCreated();
        Catalog = new SqliteCatalog(Home.CatalogPath);
        Catalog.Initialize();
        Service = new ExportService(Home, Catalog, settings: settings ?? new EngineSettings { HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
    }

    public string Root { get; }
    public ExportsHome Home { get; }
    public SqliteCatalog Catalog { get; }
    public ExportService Service { get; }

    public ImportResult LoadSample(SampleKind kind, long count, string? index = null, int seed = 42) =>
        Service.Import(index ?? SampleDataGenerator.DefaultIndexOf(kind),
            SampleDataGenerator.Generate(kind, count, seed, SampleEnd, TimeSpan.FromDays(7)),
            new ImportOptions { DefaultColumns = SampleDataGenerator.ColumnsOf(kind) }, null, CancellationToken.None);

    public ImportResult Load(string index, params string[] jsonDocuments) =>
        Service.Import(index, jsonDocuments.Select(j => JsonDocument.Parse(j).RootElement.Clone()), new ImportOptions(), null, CancellationToken.None);

    /// <summary>Creates (if needed) and runs an export to completion.</summary>
    public RunRecord Run(ExportDefinition export)
    {
        if (Catalog.FindExport(export.Name) is null) Service.Create(export);
        var handle = Service.Start(export.Name, RunTrigger.Manual);
        return handle.Completion.GetAwaiter().GetResult();
    }

    /// <summary>The csv that export <paramref name="csvExport"/> must write: its writer fed, in order, the lines of jsonl
    /// export <paramref name="jsonlExport"/>'s file (JSON records only, one thread).</summary>
    public byte[] CsvFromJsonLines(string csvExport, IReadOnlyList<string> columns, string jsonlExport)
    {
        using var expected = new MemoryStream();
        using (var writer = Service.Formats.Get("csv").CreateWriter(expected, new Formats.FormatContext(Service.Get(csvExport), columns, _ => { })))
        {
            writer.WriteStart();
            foreach (var line in File.ReadLines(Path.Combine(Home.ExportsFolder, jsonlExport, jsonlExport + ".jsonl")))
                writer.WriteRecord(System.Text.Encoding.UTF8.GetBytes(line));
            writer.WriteEnd();
        }
        return expected.ToArray();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
