using System.Management.Automation;
using System.Net;
using ExportsPS.Engine.Secrets;
using ExportsPS.Engine.Storage.S3;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Register-ExportStorage: names an S3-compatible bucket (AWS, MinIO, Garage, Ceph) that exports
/// can write their files to with -Storage. The secret access key is encrypted before it reaches the catalog.</summary>
[Cmdlet(VerbsLifecycle.Register, "ExportStorage", SupportsShouldProcess = true)]
[OutputType(typeof(ExportStorageInfo))]
public sealed class RegisterExportStorageCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("BucketName")]
    [ValidateNotNullOrEmpty]
    public string Bucket { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string Prefix { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("EndpointUrl")]
    public Uri? Endpoint { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string Region { get; set; } = "us-east-1";

    /// <summary>The access key id as user name and the secret access key as password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ProfileName { get; set; }

    [Parameter]
    public SwitchParameter VirtualHostedStyle { get; set; }

    [Parameter]
    [ValidateRange(5, 512)]
    public int PartSizeMB { get; set; } = 8;

    /// <summary>Lets encrypted exports send their SSE-C keys to an http -Endpoint on another machine. Without it they are
    /// refused there (a loopback endpoint needs no opt-in): the key would cross the network in the clear.</summary>
    [Parameter]
    public SwitchParameter AllowKeysOverHttp { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => InvokeForItem(() =>
    {
        var service = Service();
        if (Credential is not null && ProfileName is not null)
            throw new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidOption, "Give -Credential or -ProfileName, not both.");
        var target = new S3StorageTarget
        {
            Name = Name,
            Bucket = Bucket,
            Prefix = Prefix.Length > 0 && !Prefix.EndsWith('/') ? Prefix + "/" : Prefix,
            Endpoint = Endpoint,
            Region = Region,
            ForcePathStyle = !VirtualHostedStyle,
            AccessKeyId = Credential?.UserName,
            ProtectedSecretAccessKey = Credential is null ? null : SecretVault.NotYetProtected,
            ProfileName = ProfileName,
            PartSize = PartSizeMB * 1024 * 1024,
            AllowKeysOverHttp = AllowKeysOverHttp,
        };
        target.Validate();
        if (!ShouldProcess(Name, $"Register S3 storage {target.Describe()}")) return;
        // Protected only now, so -WhatIf writes no master key.
        if (Credential is not null) target = target with { ProtectedSecretAccessKey = service.Vault.Protect(new NetworkCredential("", Credential.Password).Password) };
        service.RegisterStorage(target, Force);
        WriteObject(StorageViews.ToInfo(service, target));
    });
}
