namespace ExportsPS.Module.Tests;

public sealed class TenantCmdletTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    [Fact]
    public void Tenant_limits_are_set_and_reported_with_this_months_use()
    {
        _ps.Ok("New-ExportSampleData -Count 500 | Out-Null; New-Export soc-a -Query '*' -Tenant soc | Out-Null");
        var set = _ps.Ok("Set-ExportTenant soc -ConcurrencyLimit 3 -MonthlyQuota 50GB").Single();
        Assert.Equal((3, 50L * 1024 * 1024 * 1024), ((int)set.Properties["ConcurrencyLimit"].Value, (long)set.Properties["QuotaBytes"].Value));
        var quota = _ps.Ok("Get-ExportQuota -Tenant soc").Single();
        var used = (long)quota.Properties["UsedBytes"].Value;
        Assert.Equal((long)_ps.Ok("(Get-ExportStatus soc-a).Bytes").Single().BaseObject, used);
        var resets = (DateTimeOffset)quota.Properties["ResetsAt"].Value;
        Assert.Equal((1, 0), (resets.Day, resets.Hour));
        Assert.Contains("default", _ps.Ok("Get-ExportQuota | ForEach-Object Tenant").Select(t => t.ToString()));
    }

    [Fact]
    public void A_run_over_quota_fails_with_a_clear_error()
    {
        _ps.Ok("New-ExportSampleData -Count 500 | Out-Null; Set-ExportTenant tiny -MonthlyQuota 1KB | Out-Null");
        var result = _ps.Run("New-Export over -Query '*' -Tenant tiny");
        Assert.Equal("ExportRunFailed,ExportsPS.Commands.NewExportCommand", result.ErrorId);
        Assert.Contains("would exceed its monthly quota", result.Errors[0].ToString());
        Assert.Contains("QUOTA_REFUSED", _ps.Ok("Get-ExportAuditEvent over | ForEach-Object Event").Select(e => e.ToString()));
    }
}
