using Xunit.Abstractions;

namespace ExportsPS.Module.Tests;

/// <summary>Several hosts on one PostgreSQL catalog: three scheduler processes started together over 500
/// due exports run each exactly once — no duplicate, no miss.</summary>
public sealed class SharedCatalogTests : IDisposable
{
    const string Variable = "EXPORTSPS_TEST_POSTGRES";
    readonly ITestOutputHelper _output;
    readonly string _home = Path.Combine(Path.GetTempPath(), "exportsps-shared-" + Guid.NewGuid().ToString("N")[..8]);

    public SharedCatalogTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_home);
    }

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    [ServiceFact(Variable)]
    public void Three_scheduler_processes_run_500_due_exports_exactly_once()
    {
        var server = ServiceFactAttribute.Require(Variable);
        var database = "exportsps_sched_" + Guid.NewGuid().ToString("N")[..8];
        var catalog = server.Replace("Database=exportsps_test", "Database=" + database);
        Assert.NotEqual(server, catalog);
        using (var admin = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("psql",
                   ["-h", "127.0.0.1", "-p", Port(server), "-U", "postgres", "-qc", $"CREATE DATABASE {database}"]) { RedirectStandardOutput = true })!)
            admin.WaitForExit();
        var environment = new Dictionary<string, string> { ["EXPORTSPS_CATALOG"] = catalog };

        const int Exports = 500;
        ScriptHost.Run(_home,
            "New-ExportSampleData -Count 3 -Index tiny | Out-Null; Set-ExportTenant default -ConcurrencyLimit 3 | Out-Null; " +
            $"1..{Exports} | ForEach-Object {{ New-Export \"e$_\" -Index tiny -Query '*' -NoRun -Interval 00:01:00 | Out-Null }}",
            TimeSpan.FromMinutes(5), environment);

        var asOf = DateTimeOffset.UtcNow.AddMinutes(2).ToString("o");
        var schedulers = Enumerable.Range(0, 3).Select(_ => ScriptHost.Start(_home,
            $"Invoke-ExportScheduler -AsOf '{asOf}' | ForEach-Object {{ 'RUN ' + $_.Name + ' ' + $_.Status }}", environment)).ToList();
        var outputs = schedulers.Select(s => s.StandardOutput.ReadToEndAsync()).ToList();
        foreach (var scheduler in schedulers) { Assert.True(scheduler.WaitForExit(TimeSpan.FromMinutes(6))); scheduler.Dispose(); }

        var runs = outputs.Select(o => o.Result.Split('\n').Where(l => l.StartsWith("RUN ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList()).ToList();
        var all = runs.SelectMany(r => r).ToList();
        Assert.All(all, r => Assert.EndsWith(" Completed", r));
        var names = all.Select(r => r.Split(' ')[1]).ToList();
        Assert.Equal(Exports, names.Distinct().Count());     // no miss
        Assert.Equal(Exports, names.Count);                  // no duplicate
        var split = string.Join("/", runs.Select(r => r.Count));
        _output.WriteLine($"runs per scheduler process: {split}");
        ReliabilityReport.Record("scheduling", $"PostgreSQL: 3 scheduler processes over {Exports} due exports: {names.Count} runs, 0 duplicates, 0 misses (per process {split})");
    }

    static string Port(string connectionString) =>
        connectionString.Split(';').Select(p => p.Split('=', 2)).First(p => p[0].Trim().Equals("Port", StringComparison.OrdinalIgnoreCase))[1];
}
