namespace ExportsPS.Engine.Runs;

/// <summary>A run executing in this process: live counters the caller polls from its own thread (so a
/// PowerShell cmdlet can write progress on the pipeline thread), the completion, and cancellation.</summary>
public sealed class RunHandle
{
    readonly CancellationTokenSource _cancel = new();
    long _processed;
    long _total = -1;

    internal RunHandle(RunRecord run) => Run = run;

    public RunRecord Run { get; }
    public string RunId => Run.Id;
    public string ExportName => Run.ExportName;
    public long Processed => Interlocked.Read(ref _processed);
    public long? Total => Interlocked.Read(ref _total) is var t && t >= 0 ? t : null;
    /// <summary>What the run is doing now (opening, reading, committing), for progress displays.</summary>
    public string Phase { get; internal set; } = "queued";
    /// <summary>Bytes of the file the storage has acknowledged (an S3 upload's completed parts); null where
    /// the file is written locally.</summary>
    public long? BytesStored => StoredProbe?.Invoke() is >= 0 and var stored ? stored : null;
    internal Func<long>? StoredProbe { get; set; }
    public Task<RunRecord> Completion { get; internal set; } = null!;
    internal CancellationToken Token => _cancel.Token;

    public void Cancel() => _cancel.Cancel();

    internal void SetTotal(long total) => Interlocked.Exchange(ref _total, total);
    internal void Advance(long count) => Interlocked.Add(ref _processed, count);
}
