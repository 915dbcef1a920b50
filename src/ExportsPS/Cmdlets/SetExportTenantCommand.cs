using System.Management.Automation;
using ExportsPS.Completers;
using ExportsPS.Internal;

namespace ExportsPS.Commands;

/// <summary>Set-ExportTenant: a tenant's concurrency limit (runs beyond it wait, queued) and monthly quota
/// of compressed bytes (a run that would exceed it fails).</summary>
[Cmdlet(VerbsCommon.Set, "ExportTenant", SupportsShouldProcess = true)]
[OutputType(typeof(ExportQuotaInfo))]
public sealed class SetExportTenantCommand : ExportCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TenantNameCompleter))]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string Tenant { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 1000)]
    public int? ConcurrencyLimit { get; set; }

    /// <summary>Compressed bytes per calendar month (UTC); PowerShell's 10GB and 500MB notations work.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long? MonthlyQuota { get; set; }

    protected override void ProcessRecord() => Invoke(() =>
    {
        var service = Service();
        var policy = Engine.Tenants.TenantPolicy.Load(service.Catalog, Tenant);
        policy = policy with
        {
            ConcurrencyLimit = ConcurrencyLimit ?? policy.ConcurrencyLimit,
            MonthlyQuotaBytes = MonthlyQuota ?? policy.MonthlyQuotaBytes,
        };
        if (!ShouldProcess(Tenant, $"Set tenant limits: {policy.ConcurrencyLimit} concurrent runs, {policy.MonthlyQuotaBytes:N0} bytes a month")) return;
        policy.Save(service.Catalog);
        WriteObject(EngineAccess.QuotaOf(service, Tenant));
    });
}
