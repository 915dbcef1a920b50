namespace ExportsPS.Module.Tests;

public sealed class ThreatIntelExportTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    public ThreatIntelExportTests() =>
        _ps.Ok("New-ExportSampleData -Kind Attributes -Count 300 -EndTime '2026-06-19T00:00:00Z' | Out-Null");

    [Fact]
    public void Misp_export_needs_a_distribution_and_streams_attributes_back_as_objects()
    {
        var refused = _ps.Run("New-Export m -Index attributes -Query '*' -Format misp");
        Assert.Equal("InvalidOption,ExportsPS.Commands.NewExportCommand", refused.ErrorId);
        Assert.Contains("-Distribution", refused.Errors[0].ToString());
        Assert.Empty(_ps.Ok("Get-Export m*"));

        var run = _ps.Ok("New-Export m -Index attributes -Query 'to_ids:true' -Format misp -Distribution Community").Single();
        Assert.Equal("Completed", run.Properties["Status"].Value.ToString());
        Assert.EndsWith("m.misp.json", (string)run.Properties["Location"].Value);
        var types = _ps.Ok("Receive-ExportFile m -AsObject | ForEach-Object { $_.to_ids }");
        Assert.Equal((long)run.Properties["Records"].Value, types.Count);
        Assert.All(types, t => Assert.True((bool)t.BaseObject));
    }

    [Fact]
    public void Stix_export_streams_objects_back_and_its_cap_fails_before_conversion()
    {
        var run = _ps.Ok("New-Export s -Index attributes -Query '*' -Format stix").Single();
        Assert.Equal("Completed", run.Properties["Status"].Value.ToString());
        var kinds = _ps.Ok("Receive-ExportFile s -AsObject | ForEach-Object type").Select(t => t.ToString()).Distinct().ToList();
        Assert.Contains("identity", kinds);
        Assert.Contains("report", kinds);
        Assert.Contains("indicator", kinds);

        var capped = _ps.Run("New-Export s2 -Index attributes -Query '*' -Format stix -StixRecordCap 50");
        Assert.Equal("ExportRunFailed,ExportsPS.Commands.NewExportCommand", capped.ErrorId);
        Assert.Contains("matches 300 records, more than the 50", capped.Errors[0].ToString());
    }
}
