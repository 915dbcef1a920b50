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
        // The cause, without parsing the message: the category, and the run's code (the error's target, and in Get-ExportStatus).
        Assert.Equal(System.Management.Automation.ErrorCategory.LimitsExceeded, result.Errors[0].CategoryInfo.Category);
        Assert.Equal("QuotaExceeded", _ps.Ok("(Get-ExportStatus over).ErrorCode").Single().ToString());
        Assert.Contains("QUOTA_REFUSED", _ps.Ok("Get-ExportAuditEvent over | ForEach-Object Event").Select(e => e.ToString()));
    }

    [Fact]
    public void Tenants_with_a_policy_are_reported_and_completed_and_tenant_names_come_down_the_pipeline()
    {
        _ps.Ok("New-ExportSampleData -Count 20 | Out-Null; New-Export soc-a -Query '*' -Tenant soc -NoRun | Out-Null; " +
               "Set-ExportTenant 'red team' -MonthlyQuota 5GB | Out-Null");
        // A tenant given a policy before its first export is still one Get-ExportQuota reports and Tab offers.
        Assert.Equal(["default", "red team", "soc"], _ps.Ok("Get-ExportQuota | ForEach-Object Tenant").Select(t => t.ToString()));
        Assert.Equal(["'red team'"], _ps.Ok("(TabExpansion2 -inputScript 'Get-ExportQuota r' -cursorColumn 17).CompletionMatches | ForEach-Object CompletionText").Select(t => t.ToString()));
        Assert.Equal(["soc"], _ps.Ok("(TabExpansion2 -inputScript 'New-Export x -Query * -Tenant s' -cursorColumn 31).CompletionMatches | ForEach-Object CompletionText").Select(t => t.ToString()));
        Assert.Equal(["soc", "red team"], _ps.Ok("'soc', 'red team' | Get-ExportQuota | ForEach-Object Tenant").Select(t => t.ToString()));
        // An object without a Tenant binds as its string: that is no tenant, and says so rather than reporting zero use.
        var unknown = _ps.Run("Get-ExportIndex events | Get-ExportQuota");
        Assert.Empty(unknown.Output);
        Assert.Equal("InvalidOption,ExportsPS.Commands.GetExportQuotaCommand", unknown.ErrorId);
        Assert.Contains("No export or policy has tenant", unknown.Errors.Single().ToString());
    }
}
