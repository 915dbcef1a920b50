using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Get-ExportQuota: each tenant's monthly use of compressed bytes against its quota, when it
/// resets, and its concurrency limit with the runs running and queued now.</summary>
[Cmdlet(VerbsCommon.Get, "ExportQuota")]
[OutputType(typeof(ExportQuotaInfo))]
public sealed class GetExportQuotaCommand : ExportCmdletBase
{
    /// <summary>Tenants to report; default: every tenant that has an export or a policy, and "default".</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TenantNameCompleter))]
    public string[]? Tenant { get; set; }

    protected override void ProcessRecord() => Invoke(() =>
    {
        var service = EngineAccess.Service();
        var tenants = Tenant ?? service.Tenants();
        foreach (var tenant in tenants) WriteObject(EngineAccess.QuotaOf(service, tenant));
    });
}
