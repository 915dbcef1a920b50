using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Receive-ExportFile: downloads an export's latest complete file (verified against its
/// manifest's sha256) or streams its records into the pipeline as objects.</summary>
[Cmdlet(VerbsCommunications.Receive, "ExportFile", SupportsShouldProcess = true, DefaultParameterSetName = FileSet)]
[OutputType(typeof(FileInfo), ParameterSetName = [FileSet])]
[OutputType(typeof(PSObject), ParameterSetName = [ObjectSet])]
public sealed class ReceiveExportFileCommand : ExportCmdletBase
{
    const string FileSet = "File";
    const string ObjectSet = "AsObject";

    #region Parameters

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [Alias("ExportName")]
    public string Name { get; set; } = "";

    /// <summary>A file path, or a folder to save the file under its export file name. Default: the current folder.</summary>
    [Parameter(Position = 1, ParameterSetName = FileSet)]
    [Alias("Path", "OutFile")]
    public string? Destination { get; set; }

    [Parameter(ParameterSetName = FileSet)]
    public SwitchParameter Force { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ObjectSet)]
    public SwitchParameter AsObject { get; set; }

    /// <summary>The key of an encrypted export (SecureString or base64).</summary>
    [Parameter]
    public object? EncryptionKey { get; set; }

    /// <summary>Refuses a file larger than this many bytes (checked against the manifest before downloading).</summary>
    [Parameter(ParameterSetName = FileSet)]
    [ValidateRange(1, long.MaxValue)]
    public long? MaxSize { get; set; }

    #endregion

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        if (AsObject)
        {
            // Reading is audited as a download: -WhatIf says so and reads nothing.
            if (!ShouldProcess(Name, "Stream the records of the export's file")) return;
            foreach (var record in service.ReadRecords(Name, Stopping, EncryptionKeys.From(EncryptionKey)))
                WriteObject(JsonObjects.ToPowerShell(record));
            return;
        }
        var manifest = service.RequireArtifact(Name);
        var target = Destination is null
            ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
            : GetUnresolvedProviderPathFromPSPath(Destination);
        if (!ShouldProcess(target, $"Save file of export '{Name}' ({manifest.Bytes:N0} bytes)")) return;

        var progress = new ProgressRecord(3, $"Receiving '{Name}'", "Downloading") { PercentComplete = 0 };
        var lastPercent = 0;
        var copied = new StrictProgress();
        var download = service.ReceiveAsync(Name, target, Force, copied, Stopping, EncryptionKeys.From(EncryptionKey), MaxSize);
        while (!download.Wait(100))
        {
            var percent = manifest.Bytes > 0 ? (int)Math.Min(100, copied.Value * 100 / manifest.Bytes) : 100;
            if (percent == lastPercent) continue;
            lastPercent = percent;
            progress.PercentComplete = percent;
            WriteProgress(progress);
        }
        var received = download.GetAwaiter().GetResult();
        if (lastPercent > 0) WriteProgress(new ProgressRecord(progress.ActivityId, progress.Activity, "Done") { RecordType = ProgressRecordType.Completed });
        WriteObject(new FileInfo(received.Path));
    });

    /// <summary>Records the latest value only; read from the pipeline thread (no callbacks into PowerShell).</summary>
    sealed class StrictProgress : IProgress<long>
    {
        long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Report(long value) => Interlocked.Exchange(ref _value, value);
    }
}
