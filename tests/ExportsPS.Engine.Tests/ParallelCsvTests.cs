using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;

namespace ExportsPS.Engine.Tests;

/// <summary>CSV batches are formatted on several cores, from the index's leaf records: the file must be byte-identical
/// to one writer formatting every record's JSON in order.</summary>
public sealed class ParallelCsvTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    [Fact]
    public void Csv_formatted_in_parallel_is_byte_identical_to_one_writer_in_order()
    {
        _home.LoadSample(SampleKind.Events, 30_000);
        Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "rows", Query = "*", Format = "jsonl" }).Status);
        var csvRun = _home.Run(new ExportDefinition { Name = "table", Query = "*", Format = "csv" });
        Assert.Equal(RunStatus.Completed, csvRun.Status);

        var columns = _home.Service.SourceOf(SourceNames.Embedded).DefaultColumns("events");
        var expected = _home.CsvFromJsonLines("table", columns, "rows");
        var actual = File.ReadAllBytes(Path.Combine(_home.Home.ExportsFolder, "table", "table.csv"));
        Assert.True(ParallelBatchFormatter.Workers > 1 || Environment.ProcessorCount == 1);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "the parallel CSV differs from the in-order one");
    }
}
