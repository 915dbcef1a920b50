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
    [ValidateNotNullOrEmpty]
    public string[]? Tenant { get; set; }

    IReadOnlyList<string>? _known;

    protected override void ProcessRecord() => Invoke(() =>
    {
        var service = Service();
        // Read once per command: Get-Export | Get-ExportQuota pipes one item per export.
        var known = _known ??= service.Tenants();
        foreach (var tenant in Tenant ?? known)
        {
            // A name no export or policy has is a typo, or an object piped in that has no Tenant (turned into a string):
            // a zero-use quota for it would look like an answer.
            if (!known.Contains(tenant, StringComparer.OrdinalIgnoreCase))
                WriteError(ErrorRecords.From(new Engine.Exports.ExportException(Engine.Exports.ExportErrorCode.InvalidOption,
                    $"No export or policy has tenant '{tenant}'. Get-ExportQuota without -Tenant lists the known tenants; Set-ExportTenant gives a new one its limits.", tenant)));
            else WriteOnce(tenant, () => EngineAccess.QuotaOf(service, tenant));
        }
    });
}
