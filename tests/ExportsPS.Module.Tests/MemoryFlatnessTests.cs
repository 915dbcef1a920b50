using Xunit.Abstractions;

namespace ExportsPS.Module.Tests;

/// <summary>Exports and pipeline imports stream: a process's peak memory for 1M documents is about what it is
/// for a few hundred thousand.</summary>
public sealed class MemoryFlatnessTests : IDisposable
{
    readonly ITestOutputHelper _output;
    readonly string _home = Path.Combine(Path.GetTempPath(), "exportsps-memory-" + Guid.NewGuid().ToString("N")[..8]);

    public MemoryFlatnessTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_home);
    }

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void Export_process_memory_stays_flat_from_100k_to_1M_events()
    {
        if (!OperatingSystem.IsLinux()) return; // reads /proc/self/status
        const string Fast = "-MappedFieldsOnly -Mapping @{ '@timestamp' = 'date'; 'event.action' = 'keyword' } -EndTime '2026-06-19T00:00:00Z'";
        var load = System.Diagnostics.Stopwatch.StartNew();
        ScriptHost.Run(_home, $"New-ExportSampleData -Kind Events -Count 100000 -Index small {Fast} | Out-Null; " +
                              $"New-ExportSampleData -Kind Events -Count 1000000 -Index large {Fast} | Out-Null", TimeSpan.FromMinutes(8));
        _output.WriteLine($"loaded 1.1M events in {load.Elapsed.TotalSeconds:N1} s");

        (long PeakMb, long Records, double Seconds) Export(string index)
        {
            var output = ScriptHost.Run(_home,
                $"$r = New-Export -Name {index}-all -Index {index} -Query '*' -Format jsonl -Compress; 'RECORDS=' + $r.Records; 'SECONDS=' + $r.Duration.TotalSeconds.ToString([cultureinfo]::InvariantCulture)" +
                ScriptHost.PrintPeakMemory, TimeSpan.FromMinutes(4));
            return (ScriptHost.ReadValue(output, "PEAK_MB"), ScriptHost.ReadValue(output, "RECORDS"), double.Parse(output.Split('\n').First(l => l.StartsWith("SECONDS=")).Trim()[8..], System.Globalization.CultureInfo.InvariantCulture));
        }

        var small = Export("small");
        var large = Export("large");
        _output.WriteLine($"100k: peak {small.PeakMb} MB, {small.Seconds:N2} s; 1M: peak {large.PeakMb} MB, {large.Seconds:N2} s (jsonl.gz)");
        Assert.Equal(100_000, small.Records);
        Assert.Equal(1_000_000, large.Records);
        Assert.True(large.PeakMb - small.PeakMb < 64,
            $"peak memory grew from {small.PeakMb} MB (100k) to {large.PeakMb} MB (1M): the export is not streaming");
    }

    [Fact]
    public void Pipeline_import_memory_stays_flat_from_300k_to_1M_objects()
    {
        if (!OperatingSystem.IsLinux()) return; // reads /proc/self/status
        (long PeakMb, long Documents) Import(int count)
        {
            // 430-byte JSON lines, as Get-Content of a JSONL file would send them: 1M of them held until the end of
            // the pipeline would take over a gigabyte. Lucene's own 32 MB buffer fills long before 300k, hence 300k as the base.
            var output = ScriptHost.Run(_home,
                "$pad = 'x' * 400; " +
                $"$r = & {{ foreach ($i in 1..{count}) {{ '{{\"n\":' + $i + ',\"msg\":\"' + $pad + '\"}}' }} }} | " +
                $"Import-ExportData -Index lines{count} -MappedFieldsOnly -Mapping @{{ n = 'long' }}; 'DOCUMENTS=' + $r.Documents" +
                ScriptHost.PrintPeakMemory, TimeSpan.FromMinutes(4));
            return (ScriptHost.ReadValue(output, "PEAK_MB"), ScriptHost.ReadValue(output, "DOCUMENTS"));
        }

        var small = Import(300_000);
        var large = Import(1_000_000);
        _output.WriteLine($"pipeline import: 300k peak {small.PeakMb} MB; 1M peak {large.PeakMb} MB");
        Assert.Equal(300_000, small.Documents);
        Assert.Equal(1_000_000, large.Documents);
        Assert.True(large.PeakMb - small.PeakMb < 64,
            $"peak memory grew from {small.PeakMb} MB (300k) to {large.PeakMb} MB (1M): the pipeline import is not streaming");
    }
}
