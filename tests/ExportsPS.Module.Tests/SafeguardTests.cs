namespace ExportsPS.Module.Tests;

/// <summary>What an admin's script can get wrong without meaning to: inherited -WhatIf, an empty drop
/// folder, a blank line in a JSONL file, a key that exists only once, a wait that ends before the run.</summary>
public sealed class SafeguardTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    [Fact]
    public void An_encrypted_export_created_without_running_returns_its_key_and_the_key_runs_it()
    {
        _ps.Ok("New-ExportSampleData -Count 200 | Out-Null");
        var output = _ps.Run("$out = New-Export sealed -Query '*' -Encrypt -NoRun; $out; " +
                             "$key = $out | Where-Object Fingerprint; (Start-Export sealed -EncryptionKey $key.EncryptionKey).Status");
        Assert.Null(output.Terminating);
        Assert.Empty(output.Errors);
        Assert.Contains(output.Output, o => o.TypeNames[0] == "ExportsPS.ExportKeyInfo" && o.Properties["EncryptionKey"].Value is System.Security.SecureString);
        Assert.Contains(output.Output, o => o.TypeNames[0] == "ExportsPS.ExportInfo");
        Assert.Equal("Completed", output.Output[^1].ToString());
        Assert.Contains(output.Warnings, w => w.Contains("returned once"));
    }

    [Fact]
    public void Force_skips_the_prompt_but_never_an_inherited_WhatIf()
    {
        _ps.Ok("New-ExportSampleData -Count 50 | Out-Null; New-Export keep -Query '*' -NoRun | Out-Null");
        _ps.Ok("function Remove-Everything { [CmdletBinding(SupportsShouldProcess)] param() Get-Export | Remove-Export -Force }; Remove-Everything -WhatIf");
        _ps.Ok("$WhatIfPreference = $true; Remove-Export keep -Force; $WhatIfPreference = $false");
        Assert.Single(_ps.Ok("Get-Export keep"));
        // No prompt (this host cannot show one): -Force alone removes.
        _ps.Ok("Remove-Export keep -Force");
        Assert.Empty(_ps.Ok("Get-Export keep*"));
    }

    [Fact]
    public void Registering_with_a_secret_under_WhatIf_writes_nothing_not_even_the_master_key()
    {
        var masterKey = Path.Combine(_ps.Home, "keys", "master.key");
        _ps.Ok("$c = [pscredential]::new('exporter', [System.Net.NetworkCredential]::new('', 's3cret-value').SecurePassword); " +
               "Register-ExportSource prod -Uri https://search.example:9200 -Credential $c -WhatIf; " +
               "Register-ExportStorage bucket -Bucket exports -Endpoint http://127.0.0.1:1 -Credential $c -WhatIf");
        Assert.False(File.Exists(masterKey));
        Assert.Empty(_ps.Ok("Get-ExportSource prod*"));
        // Confirmed, the secret is protected and stored.
        _ps.Ok("$c = [pscredential]::new('exporter', [System.Net.NetworkCredential]::new('', 's3cret-value').SecurePassword); " +
               "Register-ExportSource prod -Uri https://search.example:9200 -Credential $c | Out-Null");
        Assert.True(File.Exists(masterKey));
        Assert.Equal("Basic", _ps.Ok("(Get-ExportSource prod).Authentication").Single().ToString());
    }

    [Fact]
    public void An_empty_pipeline_with_Replace_leaves_the_index_as_it_is()
    {
        _ps.Ok("New-ExportSampleData -Count 30 | Out-Null");
        var result = _ps.Run("@() | Import-ExportData events -Replace");
        Assert.Null(result.Terminating);
        Assert.Empty(result.Errors);
        Assert.Contains(result.Warnings, w => w.Contains("Nothing to import") && w.Contains("'events'"));
        Assert.Equal("30", _ps.Ok("(Get-ExportIndex events).Documents").Single().ToString());
    }

    [Fact]
    public void Blank_lines_from_Get_Content_are_skipped_and_a_bad_line_is_named_by_its_position()
    {
        var imported = _ps.Ok("'{\"a\":1}', '', '   ', '{\"a\":2}' | Import-ExportData lines").Single();
        Assert.Equal(2L, imported.Properties["Documents"].Value);
        var bad = _ps.Run("'{\"a\":1}', '', 'not json' | Import-ExportData lines2");
        Assert.Equal("InvalidData,ExportsPS.Commands.ImportExportDataCommand", bad.ErrorId);
        Assert.Contains("Pipeline object 2", (bad.Terminating ?? bad.Errors[0].Exception).Message);
        Assert.Empty(_ps.Ok("Get-ExportIndex lines2*"));
    }

    [Fact]
    public void A_bad_object_late_in_a_streamed_import_rolls_back_what_was_streamed_and_frees_the_index()
    {
        _ps.Ok("New-ExportSampleData -Count 30 | Out-Null");
        // 20,000 objects are far more than the import's queue holds: they were indexed before the bad one came.
        var bad = _ps.Run("& { foreach ($i in 1..20000) { @{ n = $i } }; 'not json' } | Import-ExportData events -Replace");
        Assert.Equal("InvalidData,ExportsPS.Commands.ImportExportDataCommand", bad.ErrorId);
        Assert.Contains("Pipeline object 20,001", (bad.Terminating ?? bad.Errors[0].Exception).Message);
        Assert.Equal("30", _ps.Ok("(Get-ExportIndex events).Documents").Single().ToString());
        var again = _ps.Ok("@{ n = 1 } | Import-ExportData events").Single();
        Assert.Equal(31L, again.Properties["TotalDocuments"].Value);
    }

    [Fact]
    public void A_streamed_import_that_cannot_start_says_so_at_the_next_object_not_when_its_queue_is_full()
    {
        _ps.Ok("New-ExportSampleData -Count 30 | Out-Null");
        var folder = _ps.Ok("(Get-ExportIndex events).Path").Single().ToString()!;
        // Another process importing into the index holds its import lock.
        using (new FileStream(Path.Combine(folder, "import.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            // The import fails on its own thread as soon as it starts; after the pause it has, whatever the machine's load,
            // and the next object must get the error (the old code told only once 1,024 objects filled the queue).
            var busy = _ps.Run("$global:emitted = 1; & { @{ n = 0 }; [System.Threading.Thread]::Sleep(1000); " +
                               "foreach ($i in 1..5000) { $global:emitted++; @{ n = $i } } } | Import-ExportData events");
            Assert.Equal("SourceFailed,ExportsPS.Commands.ImportExportDataCommand", busy.ErrorId);
            Assert.Contains("being written by another import", (busy.Terminating ?? busy.Errors[0].Exception).Message);
            var emitted = Convert.ToInt32(_ps.Ok("$global:emitted").Single().BaseObject);
            Assert.True(emitted <= 2, $"the error came after {emitted} objects");
        }
        Assert.Equal(31L, _ps.Ok("@{ n = 1 } | Import-ExportData events").Single().Properties["TotalDocuments"].Value);
    }

    [Fact]
    public void Invoke_ExportScheduler_Confirm_asks_for_each_due_export_and_runs_only_the_confirmed()
    {
        _ps.Ok("New-ExportSampleData -Count 50 | Out-Null; " +
               "'yes-1', 'no-1', 'yes-2' | ForEach-Object { New-Export $_ -Query '*' -NoRun | Out-Null; Set-ExportSchedule $_ -Daily -At 02:00 | Out-Null }");
        var host = new AnsweringHost(message => message.Contains("no-1") ? "No" : "Yes");
        using var runspace = PowerShellSession.OpenRunspace(host);
        using var shell = System.Management.Automation.PowerShell.Create(runspace);
        var runs = shell.AddScript("Invoke-ExportScheduler -AsOf ([DateTimeOffset]::UtcNow.AddDays(2)) -Confirm").Invoke();

        Assert.Empty(shell.Streams.Error);
        Assert.Equal(3, host.Prompts.Count);                                    // one question per due export
        Assert.Equal(["yes-1", "yes-2"], runs.Select(r => (string)r.Properties["Name"].Value).Order().ToArray());
        Assert.Equal("True", _ps.Ok("(Get-ExportSchedule no-1 -AsOf ([DateTimeOffset]::UtcNow.AddDays(2))).Due").Single().ToString());
    }

    [Fact]
    public void Time_span_limits_compare_as_time_spans()
    {
        // [ValidateRange] with string bounds compared these as text: 10 hours was "more" than a day.
        var tenHours = _ps.Run("Stop-Export nosuch -Wait -Timeout 10:00:00 -Confirm:$false");
        Assert.Equal("ExportNotFound,ExportsPS.Commands.StopExportCommand", tenHours.ErrorId);
        var twoDays = _ps.Run("Stop-Export nosuch -Wait -Timeout 2.00:00:00");
        Assert.StartsWith("ParameterArgumentValidationError,", twoDays.ErrorId);
        Assert.Contains("from 00:00:01 to 1.00:00:00", (twoDays.Terminating ?? twoDays.Errors[0].Exception).Message);
    }

    [Fact]
    public void A_wait_that_ends_before_the_run_says_so()
    {
        // A run that cannot finish within the wait however loaded the machine is: ten pages a second apart. (150,000
        // embedded events could: a test host descheduled for a second under CI load saw the run complete first.)
        using var cluster = new SequenceCluster(1000) { PageDelay = TimeSpan.FromSeconds(1) };
        _ps.Ok($"Register-ExportSource -Name seq -Uri '{cluster.Url}' -TiebreakerField uuid -PageSize 100 | Out-Null");
        var result = _ps.Run("New-Export slow -Source seq -Index seq -Query '*' -NoRun | Out-Null; $job = Start-Export slow -AsJob; " +
                             "(Get-ExportStatus slow -Wait -Timeout 00:00:00.2).Status; Stop-Export slow -Wait | Out-Null; $job | Wait-Job | Out-Null");
        Assert.True(result.Warnings.Any(w => w.Contains("Stopped waiting after 00:00:00.2") && w.Contains("Get-ExportStatus -RunId")),
            $"no wait warning; output: {string.Join(", ", result.Output)}; errors: {string.Join(" | ", result.Errors)}; terminating: {result.Terminating?.Message}");
        Assert.Contains(result.Output, o => o.ToString() is "Running" or "Queued");
    }
}
