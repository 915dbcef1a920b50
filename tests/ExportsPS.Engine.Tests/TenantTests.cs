using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Tenants;

namespace ExportsPS.Engine.Tests;

public sealed class TenantTests : IDisposable
{
    readonly TestHome _home = new();
    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task Runs_beyond_the_tenant_limit_stay_queued_and_start_when_a_slot_frees()
    {
        _home.LoadSample(SampleKind.Events, 40_000);
        _home.Service.Create(new ExportDefinition { Name = "first", Query = "*", Format = "csv", Tenant = "soc" });
        _home.Service.Create(new ExportDefinition { Name = "second", Query = "*", Tenant = "soc" });
        var first = _home.Service.Start("first", RunTrigger.Manual);
        SpinWait.SpinUntil(() => _home.Catalog.FindRun(first.RunId)!.Status == RunStatus.Running, TimeSpan.FromSeconds(10));
        var second = _home.Service.Start("second", RunTrigger.Manual);
        Thread.Sleep(300);
        if (!first.Completion.IsCompleted)
        {
            Assert.Equal(RunStatus.Queued, _home.Catalog.FindRun(second.RunId)!.Status);   // default limit: 1 per tenant
            Assert.StartsWith("queued", second.Phase);
        }
        var a = await first.Completion;
        var b = await second.Completion;
        Assert.Equal((RunStatus.Completed, RunStatus.Completed), (a.Status, b.Status));
        Assert.True(b.StartedAt >= a.EndedAt, "the second run started before the first one ended");
    }

    [Fact]
    public void A_run_that_would_exceed_the_monthly_quota_fails_and_keeps_the_previous_file()
    {
        _home.LoadSample(SampleKind.Events, 2_000);
        _home.Service.Create(new ExportDefinition { Name = "metered", Query = "user.name:alice", Tenant = "small" });
        var first = _home.Run(_home.Service.Get("metered"));
        new TenantPolicy { Tenant = "small", MonthlyQuotaBytes = first.Bytes!.Value + 1000 }.Save(_home.Catalog);

        _home.Service.Update(_home.Service.Get("metered") with { Query = "*" });
        var refused = _home.Run(_home.Service.Get("metered"));
        Assert.Equal(RunStatus.Failed, refused.Status);
        Assert.Contains("would exceed its monthly quota", refused.Error);
        Assert.Contains("resets on", refused.Error);
        Assert.Equal(first.Sha256, _home.Service.RequireArtifact("metered").Sha256);
        Assert.Contains(_home.Catalog.ListAudit("metered", 20), e => e.Event == AuditEvents.QuotaRefused);
        Assert.Equal(first.Bytes, _home.Catalog.TenantUsage("small", TenantPolicy.MonthStart(DateTimeOffset.UtcNow)));
    }
}
