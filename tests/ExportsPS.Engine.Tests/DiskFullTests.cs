using System.Diagnostics;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;

namespace ExportsPS.Engine.Tests;

/// <summary>A data folder on a small tmpfs that fills up mid-run (Linux, root: CI runs as root).</summary>
public sealed class DiskFullTests : IDisposable
{
    readonly TestHome _home = new();
    readonly string _mount;
    readonly bool _mounted;

    public DiskFullTests()
    {
        _mount = _home.Home.ExportsFolder;
        if (OperatingSystem.IsLinux() && Environment.UserName == "root")
            _mounted = Shell($"mount -t tmpfs -o size=4m tmpfs '{_mount}'") == 0;
    }

    public void Dispose()
    {
        if (_mounted) Shell($"umount '{_mount}'");
        _home.Dispose();
    }

    static int Shell(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("sh", ["-c", command]) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    [Fact]
    public async Task A_full_disk_fails_the_run_clearly_keeps_the_previous_file_and_leaves_no_partial_file()
    {
        if (!_mounted)
        {
            // CI runs as root on Linux and must exercise this; elsewhere there is nothing to mount.
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI must be able to mount a tmpfs");
            return;
        }
        _home.LoadSample(SampleKind.Events, 40_000);                  // ~22 MB as jsonl: cannot fit in 4 MB
        var small = _home.Run(new ExportDefinition { Name = "grows", Query = "user.name:alice AND event.outcome:failure" });
        Assert.Equal(RunStatus.Completed, small.Status);
        var before = _home.Service.RequireArtifact("grows");

        _home.Service.Update(_home.Service.Get("grows") with { Query = "*" });
        var full = _home.Run(_home.Service.Get("grows"));

        Assert.Equal(RunStatus.Failed, full.Status);
        Assert.Contains("disk is full", full.Error);
        Assert.Contains(Path.Combine(_mount, "grows", "grows.jsonl"), full.Error);   // names the path
        Assert.Matches(@"needs about \d+[.,]\d MB", full.Error!);                     // and the space needed
        var after = _home.Service.RequireArtifact("grows");
        Assert.Equal(before.Sha256, after.Sha256);
        var received = await _home.Service.ReceiveAsync("grows", Path.Combine(_home.Root, "copy.jsonl"), false, null, CancellationToken.None);
        Assert.Equal(before.Sha256, received.Manifest.Sha256);                       // still verifies
        Assert.Equal(["grows.jsonl", "grows.jsonl.manifest.json"],
            Directory.EnumerateFiles(Path.Combine(_mount, "grows")).Select(n => Path.GetFileName(n)).OrderBy(n => n).ToArray());
        ReliabilityReport.Record("disk full", "1 run filled a 4 MB tmpfs: failed with path and size, previous file kept and verified, no partial file");
    }

    [Fact]
    public void An_encrypted_run_that_fills_the_disk_fails_and_leaves_nothing_behind()
    {
        if (!_mounted)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI must be able to mount a tmpfs");
            return;
        }
        // Encryption buffers its small writes, so closing the file retries a flush that cannot succeed.
        _home.LoadSample(SampleKind.Events, 40_000);
        var key = Storage.ArtifactKey.Generate();
        _home.Service.Create(new ExportDefinition { Name = "sealed", Query = "*", KeyFingerprint = key.Fingerprint });
        var run = _home.Service.Start("sealed", RunTrigger.Manual, key).Completion.GetAwaiter().GetResult();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("disk is full", run.Error);
        Assert.Equal(RunStatus.Failed, _home.Service.GetRun(run.Id).Status);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_mount, "sealed")));
    }
}
