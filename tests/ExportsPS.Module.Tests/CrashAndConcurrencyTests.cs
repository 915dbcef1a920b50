using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace ExportsPS.Module.Tests;

/// <summary>Failing well across processes: a run killed with SIGKILL at several points leaves the
/// previous file intact and is marked failed once its heartbeat lapses; concurrent starts from several
/// processes never run one export twice; downloads during a re-run always get a complete file.</summary>
public sealed class CrashAndConcurrencyTests : IDisposable
{
    static readonly Dictionary<string, string> FastLease = new()
    {
        ["EXPORTSPS_RUN_LEASE_SECONDS"] = "3",
        ["EXPORTSPS_HEARTBEAT_SECONDS"] = "0.3",
    };

    readonly ITestOutputHelper _output;
    readonly PowerShellSession _ps;

    public CrashAndConcurrencyTests(ITestOutputHelper output)
    {
        _output = output;
        foreach (var (key, value) in FastLease) Environment.SetEnvironmentVariable(key, value);
        _ps = new PowerShellSession();
        _ps.Ok("New-ExportSampleData -Kind Events -Count 300000 -MappedFieldsOnly -Mapping @{ '@timestamp' = 'date'; 'event.action' = 'keyword' } | Out-Null");
    }

    public void Dispose()
    {
        _ps.Dispose();
        foreach (var key in FastLease.Keys) Environment.SetEnvironmentVariable(key, null);
    }

    string Status(string name, string property) =>
        _ps.Ok($"(Get-ExportStatus {name}).{property}").SingleOrDefault()?.ToString() ?? "";

    HashSet<string> CompletedShas(string name) =>
        _ps.Ok($"Get-ExportStatus {name} -History -Last 1000 | Where-Object Status -eq 'Completed' | ForEach-Object Sha256")
            .Select(o => o.ToString()).ToHashSet();

    string ReceiveSha(string name)
    {
        var target = Path.Combine(_ps.Home, $"received-{Guid.NewGuid():N}");
        _ps.Ok($"Receive-ExportFile {name} -Destination '{target}' | Out-Null");
        var sha = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(target))).ToLowerInvariant();
        File.Delete(target);
        return sha;
    }

    [Fact]
    public void A_run_killed_mid_way_keeps_the_previous_file_and_is_marked_failed_when_its_heartbeat_lapses()
    {
        _ps.Ok("New-Export crashy -Query '*' -Format csv -Compress | Out-Null");
        var kept = ReceiveSha("crashy");
        var folder = Path.Combine(_ps.Home, "exports", "crashy");
        var interrupted = new List<string>();

        foreach (var delayMs in new[] { 0, 250, 500, 800, 1200, 1700 })
        {
            using var child = ScriptHost.Start(_ps.Home, "Start-Export crashy | Out-Null", FastLease);
            Assert.True(SpinWait.SpinUntil(() => Status("crashy", "Status") == "Running" || child.HasExited, TimeSpan.FromSeconds(60)),
                "the child never started its run");
            Thread.Sleep(delayMs);
            var processed = Status("crashy", "Processed");
            var hadTemp = Directory.EnumerateFiles(folder, ".tmp-*").Any();
            child.Kill(entireProcessTree: true);   // SIGKILL: no finally blocks, no cleanup
            child.WaitForExit();
            var state = Status("crashy", "Status");
            if (state != "Running") { _output.WriteLine($"+{delayMs} ms: the run had already {state}"); continue; }
            interrupted.Add($"+{delayMs} ms after start ({processed} records read, temp file {(hadTemp ? "present" : "not yet created")})");

            // The consumer's view right after the crash: the previous complete file, and it verifies.
            Assert.Contains(ReceiveSha("crashy"), CompletedShas("crashy"));

            if (interrupted.Count == 1)
            {
                // -WhatIf changes nothing, not even housekeeping: a lapsed run stays running and keeps its temp file until
                // a command without it sweeps.
                var temps = Directory.EnumerateFiles(folder, ".tmp-*").ToList();
                Thread.Sleep(TimeSpan.FromSeconds(3.5));
                Assert.Equal("Running", _ps.Ok("& { $WhatIfPreference = $true; Remove-Export crashy; (Get-ExportStatus crashy -Wait -Timeout 00:00:02 3>$null).Status }").Single().ToString());
                Assert.Equal(temps, Directory.EnumerateFiles(folder, ".tmp-*"));
            }

            // Once the lease lapses, the next command marks the run failed and removes its temp file.
            Assert.True(SpinWait.SpinUntil(() => Status("crashy", "Status") == "Failed", TimeSpan.FromSeconds(20)), "run left running");
            Assert.Contains("heartbeats", Status("crashy", "Error"));
            Assert.Empty(Directory.EnumerateFiles(folder, ".tmp-*"));
        }

        Assert.True(interrupted.Count >= 3, $"only {interrupted.Count} kill points hit a running export");
        foreach (var point in interrupted) _output.WriteLine("killed " + point);
        ReliabilityReport.Record("crash", $"{interrupted.Count} SIGKILL points mid-run: previous file intact and verified each time, run marked failed after the lease, no temp file left");

        // And the export still works afterwards.
        _ps.Ok("Start-Export crashy | Out-Null");
        Assert.Equal("Completed", Status("crashy", "Status"));
        Assert.NotEqual("", kept);
    }

    [Fact]
    public void Twenty_concurrent_starts_from_four_processes_never_run_an_export_twice_and_downloads_stay_whole()
    {
        _ps.Ok("New-Export shared -Query '*' -Format csv -Compress | Out-Null");
        const string Attempts =
            "1..5 | ForEach-Object { try { $r = Start-Export shared -NoWait -ErrorAction Stop; 'STARTED ' + $r.RunId; Get-ExportStatus -RunId $r.RunId -Wait | Out-Null } " +
            "catch { 'REFUSED ' + $_.FullyQualifiedErrorId } }";
        var children = Enumerable.Range(0, 4).Select(_ => ScriptHost.Start(_ps.Home, Attempts, FastLease)).ToList();
        var outputs = children.Select(c => c.StandardOutput.ReadToEndAsync()).ToList();

        // Download continuously while the processes compete: every file must be a complete one.
        var downloads = 0;
        while (children.Any(c => !c.HasExited))
        {
            var sha = ReceiveSha("shared");
            Assert.Contains(sha, CompletedShas("shared"));
            downloads++;
        }
        foreach (var child in children) { child.WaitForExit(); child.Dispose(); }

        var lines = outputs.SelectMany(o => o.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var started = lines.Count(l => l.StartsWith("STARTED ", StringComparison.Ordinal));
        var refused = lines.Where(l => l.StartsWith("REFUSED ", StringComparison.Ordinal)).ToList();
        Assert.Equal(20, started + refused.Count);
        Assert.All(refused, r => Assert.Equal("REFUSED RunAlreadyActive,ExportsPS.Commands.StartExportCommand", r));
        Assert.InRange(started, 1, 20);

        // No two runs of the export were ever active at the same time.
        var runs = _ps.Ok("Get-ExportStatus shared -History -Last 100 | Where-Object Trigger -eq 'Manual' | ForEach-Object { '{0:o}|{1:o}|{2}' -f $_.StartedAt, $_.EndedAt, $_.Status }")
            .Select(o => o.ToString()!.Split('|')).Select(p => (Start: DateTimeOffset.Parse(p[0]), End: DateTimeOffset.Parse(p[1]), Status: p[2]))
            .OrderBy(r => r.Start).ToList();
        Assert.Equal(started, runs.Count);
        Assert.All(runs, r => Assert.Equal("Completed", r.Status));
        for (var i = 1; i < runs.Count; i++) Assert.True(runs[i].Start >= runs[i - 1].End, "two runs overlapped");
        Assert.Contains(ReceiveSha("shared"), CompletedShas("shared"));

        _output.WriteLine($"{started} started, {refused.Count} refused, {downloads} downloads during the contest");
        ReliabilityReport.Record("concurrency", $"20 starts from 4 processes: {started} ran one after another, {refused.Count} refused (RunAlreadyActive); {downloads} downloads during re-runs all complete and verified");
    }
}
