using Xunit.Abstractions;

namespace ExportsPS.Module.Tests;

/// <summary>Exports stream: the export process's peak memory for 1M documents is the same as for 100k.</summary>
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
}
