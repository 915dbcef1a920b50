using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportDownloadUrl: a pre-signed URL for the export's latest file on S3 storage, valid for
/// -ValidFor (default and maximum 24 hours, never past the download window), with the SSE-C headers a
/// consumer must send when the export is encrypted.</summary>
[Cmdlet(VerbsCommon.Get, "ExportDownloadUrl")]
[OutputType(typeof(ExportDownloadUrl))]
public sealed class GetExportDownloadUrlCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ExportNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter]
    public TimeSpan ValidFor { get; set; } = TimeSpan.FromHours(24);

    [Parameter]
    public object? EncryptionKey { get; set; }

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        var export = service.Get(Name);
        var manifest = service.RequireArtifact(export.Name);
        if (service.StoreOf(export.Storage) is not Engine.Storage.S3.S3ArtifactStore s3)
            throw new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidOption,
                $"Export '{export.Name}' is on {export.Storage} storage, which has no URLs to share; use Receive-ExportFile, or store it on S3 (-Storage).", export.Name);
        var link = s3.Presign(export.Name, manifest, ValidFor, EncryptionKeys.From(EncryptionKey));
        WriteObject(new ExportDownloadUrl
        {
            Name = export.Name,
            Url = link.Url,
            ExpiresAt = link.ExpiresAt,
            Headers = new System.Collections.Hashtable(link.Headers.ToDictionary(h => (object)h.Key, h => (object?)h.Value)),
            Sha256 = manifest.Sha256,
            Bytes = manifest.Bytes,
        });
    });
}
