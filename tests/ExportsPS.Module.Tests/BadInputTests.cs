namespace ExportsPS.Module.Tests;

/// <summary>Every kind of bad input is refused before any work starts, with a stable FullyQualifiedErrorId
/// and a message that says what is wrong — and nothing is created.</summary>
public sealed class BadInputTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    public BadInputTests() => _ps.Ok("New-ExportSampleData -Kind Events -Count 50 | Out-Null; New-Export existing -Query '*' | Out-Null");

    [Theory]
    [InlineData("New-Export bad -Query 'user.name:(alice'", "InvalidQuery,ExportsPS.Commands.NewExportCommand", "column")]
    [InlineData("New-Export bad -Query 'usr.name:alice'", "InvalidField,ExportsPS.Commands.NewExportCommand", "Did you mean user.name")]
    [InlineData("New-Export bad -Query '*' -Index nosuch", "UnknownIndex,ExportsPS.Commands.NewExportCommand", "Existing indexes: events")]
    [InlineData("New-Export bad -Query '*' -Format xml", "UnknownFormat,ExportsPS.Commands.NewExportCommand", "csv")]
    [InlineData("New-Export bad -Query '*' -Field 'user.name',''", "InvalidField,ExportsPS.Commands.NewExportCommand", "empty entry")]
    [InlineData("New-Export bad -Query '*' -Field 'nosuch.*'", "InvalidField,ExportsPS.Commands.NewExportCommand", "matches no field")]
    [InlineData("New-Export bad -Query '*' -Field 'no.such.field'", "InvalidField,ExportsPS.Commands.NewExportCommand", "does not exist")]
    [InlineData("New-Export bad -Query '*' -From 'yesterday'", "InvalidDateMath,ExportsPS.Commands.NewExportCommand", "-From 'yesterday'")]
    [InlineData("New-Export bad -Query '*' -From 'now' -To 'now-1d'", "InvalidDateMath,ExportsPS.Commands.NewExportCommand", "swap")]
    [InlineData("New-Export existing -Query '*'", "DuplicateName,ExportsPS.Commands.NewExportCommand", "already exists")]
    [InlineData("New-Export '../escape' -Query '*'", "InvalidName,ExportsPS.Commands.NewExportCommand", "is not valid")]
    [InlineData("Start-Export nosuch", "ExportNotFound,ExportsPS.Commands.StartExportCommand", "Get-Export lists")]
    [InlineData("Get-ExportStatus nosuch", "ExportNotFound,ExportsPS.Commands.GetExportStatusCommand", "nosuch")]
    [InlineData("Remove-Export nosuch -Confirm:$false", "ExportNotFound,ExportsPS.Commands.RemoveExportCommand", "nosuch")]
    [InlineData("Import-ExportData -Index 'Bad/Name' -InputObject @{a=1}", "UnknownIndex,ExportsPS.Commands.ImportExportDataCommand", "not a valid index name")]
    public void Bad_input_gets_a_stable_error_id_and_creates_nothing(string script, string errorId, string messagePart)
    {
        var result = _ps.Run(script);
        Assert.Equal(errorId, result.ErrorId);
        var message = result.Errors.FirstOrDefault()?.ToString() ?? result.Terminating!.Message;
        Assert.Contains(messagePart, message);
        Assert.Empty(_ps.Ok("Get-Export bad*"));
        Assert.Single(_ps.Ok("Get-ExportStatus existing -History"));
    }

    [Fact]
    public void Receiving_an_export_that_never_completed_is_refused()
    {
        _ps.Ok("New-Export pending -Query '*' -NoRun | Out-Null");
        var result = _ps.Run("Receive-ExportFile pending -AsObject");
        Assert.Equal("RunNotCompleted,ExportsPS.Commands.ReceiveExportFileCommand", result.ErrorId);
    }

    [Fact]
    public void Receiving_into_a_folder_that_does_not_exist_is_refused()
    {
        var result = _ps.Run($"Receive-ExportFile existing -Destination '{Path.Combine(_ps.Home, "no", "such", "dir", "x.jsonl")}'");
        Assert.Equal("InvalidPath,ExportsPS.Commands.ReceiveExportFileCommand", result.ErrorId);
        Assert.Contains("does not exist", result.Errors[0].ToString());
    }

    [Fact]
    public void An_unwritable_data_folder_is_refused_clearly()
    {
        var blocker = Path.Combine(_ps.Home, "a-file");
        File.WriteAllText(blocker, "not a folder");
        var result = _ps.Run($"$env:EXPORTSPS_HOME = '{Path.Combine(blocker, "home")}'; Get-Export");
        Assert.Equal("InvalidPath,ExportsPS.Commands.GetExportCommand", result.ErrorId);
        Assert.Contains("EXPORTSPS_HOME", result.Terminating?.Message ?? result.Errors[0].ToString());
    }

    [Fact]
    public void A_failed_run_reports_a_run_failed_error_and_the_run_object()
    {
        var result = _ps.Run("New-Export capped -Query '*' -RecordCap 10");
        Assert.Equal("ExportRunFailed,ExportsPS.Commands.NewExportCommand", result.ErrorId);
        Assert.Equal("Failed", result.Output.Single().Properties["Status"].Value.ToString());
        Assert.Contains("record cap of 10", result.Errors[0].ToString());
    }
}
