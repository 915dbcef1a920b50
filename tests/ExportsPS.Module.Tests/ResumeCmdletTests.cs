using System.IO.Compression;
using System.Text.Json;
using Xunit.Abstractions;

namespace ExportsPS.Module.Tests;

/// <summary>Start-Export -Resume from PowerShell: a run killed with SIGKILL in another process keeps its
/// partial file past the crash recovery, and -Resume completes it with every record exactly once.</summary>
public sealed class ResumeCmdletTests : IDisposable
{
    const int Documents = 60_000;
    static readonly Dictionary<string, string> Fast = new()
    {
        ["EXPORTSPS_RUN_LEASE_SECONDS"] = "3",
        ["EXPORTSPS_HEARTBEAT_SECONDS"] = "0.3",
        ["EXPORTSPS_CHECKPOINT_SECONDS"] = "0.2",
    };

    readonly ITestOutputHelper _output;
    readonly SequenceCluster _cluster = new(Documents);
    readonly PowerShellSession _ps;

    public ResumeCmdletTests(ITestOutputHelper output)
    {
        _output = output;
        foreach (var (key, value) in Fast) Environment.SetEnvironmentVariable(key, value);
        _ps = new PowerShellSession();
        _ps.Ok($"Register-ExportSource -Name seq -Uri '{_cluster.Url}' -TiebreakerField uuid -PageSize 500 | Out-Null");
    }

    public void Dispose()
    {
        _ps.Dispose();
        _cluster.Dispose();
        foreach (var key in Fast.Keys) Environment.SetEnvironmentVariable(key, null);
    }

    string Status(string name, string property) =>
        _ps.Ok($"(Get-ExportStatus {name} -ErrorAction SilentlyContinue).{property}").SingleOrDefault()?.ToString() ?? "";

    [Fact]
    public void A_run_killed_part_way_is_resumed_to_one_complete_file_with_every_record_once()
    {
        _ps.Ok("New-Export seq-all -Source seq -Index seq -Query '*' -Format jsonl -Compress -Slices 2 -NoRun | Out-Null");
        _cluster.PageDelay = TimeSpan.FromMilliseconds(15);
        var folder = Path.Combine(_ps.Home, "exports", "seq-all");
        using (var child = ScriptHost.Start(_ps.Home, "Start-Export seq-all | Out-Null", Fast))
        {
            Assert.True(SpinWait.SpinUntil(() => long.TryParse(Status("seq-all", "Processed"), out var p) && p > Documents / 3 || child.HasExited,
                TimeSpan.FromSeconds(90)), "the child never got a third of the way");
            Assert.False(child.HasExited, "the run finished before it could be killed; raise PageDelay");
            child.Kill(entireProcessTree: true); // SIGKILL: no finally blocks, no cleanup
            child.WaitForExit();
        }
        var killedAt = Status("seq-all", "Processed");
        _cluster.PageDelay = TimeSpan.Zero;

        // After the lease the run is failed; the recovery that removes dead runs' temp files keeps this one.
        Assert.True(SpinWait.SpinUntil(() => Status("seq-all", "Status") == "Failed", TimeSpan.FromSeconds(20)), "run left running");
        Assert.Single(Directory.EnumerateFiles(folder, ".tmp-*"));
        Assert.Empty(_ps.Ok("Start-Export seq-all -Resume -WhatIf"));

        Assert.True(long.Parse(Status("seq-all", "KeptRecords")) > 0);
        // The failed run says what it kept and pipes by name into the resume.
        var resumed = _ps.Ok("Get-ExportStatus seq-all | Where-Object KeptRecords | Start-Export -Resume").Single();
        Assert.Equal("Completed", resumed.Properties["Status"].Value.ToString());
        Assert.Equal((long)Documents, Convert.ToInt64(resumed.Properties["Records"].Value));
        Assert.Empty(Directory.EnumerateFiles(folder, ".tmp-*"));
        Assert.Equal("", Status("seq-all", "KeptRecords"));

        // Every record exactly once, in a file that verifies and that plain GZipStream reads whole.
        var received = Path.Combine(_ps.Home, "seq-all.jsonl.gz");
        _ps.Ok($"Receive-ExportFile seq-all -Destination '{received}' | Out-Null");
        var seen = new bool[Documents];
        var lines = 0;
        using (var reader = new StreamReader(new GZipStream(File.OpenRead(received), CompressionMode.Decompress)))
            while (reader.ReadLine() is { } line)
            {
                var n = JsonDocument.Parse(line).RootElement.GetProperty("n").GetInt32();
                Assert.False(seen[n], $"record {n} written twice");
                seen[n] = true;
                lines++;
            }
        Assert.Equal(Documents, lines);
        var resumeAudit = _ps.Ok("Get-ExportAuditEvent -Name seq-all | Where-Object Event -eq 'EXPORT_RESUMED' | ForEach-Object Detail").Single().ToString();
        _output.WriteLine($"killed at {killedAt} records; {resumeAudit}");
        ReliabilityReport.Record("crash", $"SIGKILL of a resumable run (2 slices, jsonl.gz) at {killedAt} records: partial file kept through recovery, " +
                                          $"Start-Export -Resume completed it ({resumeAudit}): {Documents:N0} records, 0 duplicates, 0 missing, sha256 verified");
    }

    [Fact]
    public void Resume_without_an_interrupted_run_is_refused_with_a_stable_error_id()
    {
        _ps.Ok("New-Export seq-small -Source seq -Index seq -Query '*' -Format csv | Out-Null");
        var refused = _ps.Run("Start-Export seq-small -Resume");
        Assert.Equal("ResumeNotPossible,ExportsPS.Commands.StartExportCommand", refused.ErrorId);
        Assert.Contains("no interrupted run", refused.Errors.Single().ToString());
    }
}
