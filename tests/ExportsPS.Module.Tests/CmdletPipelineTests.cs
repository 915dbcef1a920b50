using System.Management.Automation;

namespace ExportsPS.Module.Tests;

/// <summary>Real pipelines against the staged module in a hosted PowerShell 7.6 engine.</summary>
public sealed class CmdletPipelineTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    public void Dispose() => _ps.Dispose();

    void Sample(long count = 2000) =>
        _ps.Ok($"New-ExportSampleData -Kind Events -Count {count} -EndTime '2026-06-19T00:00:00Z' | Out-Null");

    [Fact]
    public void New_export_runs_at_once_and_returns_a_completed_run()
    {
        Sample();
        var run = _ps.Ok("New-Export -Name failed-logins -Query 'event.action:logon-failed' -Format csv -Compress").Single();
        Assert.Equal("ExportsPS.ExportRunInfo", run.TypeNames[0]);
        Assert.Equal("Completed", run.Properties["Status"].Value.ToString());
        Assert.True((long)run.Properties["Records"].Value > 0);
        Assert.EndsWith("failed-logins.csv.gz", (string)run.Properties["Location"].Value);
    }

    [Fact]
    public void Get_export_pipes_into_start_export_by_property_name()
    {
        Sample();
        _ps.Ok("New-Export a -Query 'user.name:alice' -NoRun | Out-Null; New-Export b -Query 'user.name:bob' -Format json -NoRun | Out-Null");
        var runs = _ps.Ok("Get-Export | Start-Export");
        Assert.Equal(["a", "b"], runs.Select(r => (string)r.Properties["Name"].Value).OrderBy(n => n).ToArray());
        Assert.All(runs, r => Assert.Equal("Completed", r.Properties["Status"].Value.ToString()));
        Assert.All(runs, r => Assert.Equal("Manual", r.Properties["Trigger"].Value.ToString()));
    }

    [Fact]
    public void Names_come_down_the_pipeline_as_strings_and_several_at_once_into_the_index_schedule_and_audit_cmdlets()
    {
        Sample(20);
        _ps.Ok("@{ a = 1 } | Import-ExportData other | Out-Null; " +
               "'one', 'two', 'three' | ForEach-Object { New-Export $_ -Query '*' -NoRun | Out-Null }; " +
               "Set-ExportSchedule one -Daily -At 01:00 | Out-Null; Set-ExportSchedule two -Interval 02:00:00 | Out-Null");
        Assert.Equal(["events", "other"], _ps.Ok("'events', 'other' | Get-ExportIndex | ForEach-Object Name").Select(n => n.ToString()));
        var partly = _ps.Run("Get-ExportIndex events, missing, other | ForEach-Object Name");
        Assert.Equal(["events", "other"], partly.Output.Select(n => n.ToString()));
        Assert.Contains("missing", partly.Errors.Single().ToString());
        Assert.Equal(["one", "two"], _ps.Ok("'two', 'one' | Get-ExportSchedule | ForEach-Object Name").Select(n => n.ToString()).Order());
        // Unscheduled exports piped in are passed over, not errors.
        Assert.Equal(["one", "two"], _ps.Ok("Get-Export | Get-ExportSchedule | ForEach-Object Name").Select(n => n.ToString()).Order());
        Assert.Equal(["one"], _ps.Ok("Get-ExportSchedule o*, nothing | ForEach-Object Name").Select(n => n.ToString()));
        var audited = _ps.Ok("'one', 'three' | Get-ExportAuditEvent | ForEach-Object Name").Select(n => n.ToString()).Distinct().Order();
        Assert.Equal(["one", "three"], audited);
        // -Last counts the names' events together, newest first.
        var newest = _ps.Ok("Get-ExportAuditEvent one, three -Last 3 | ForEach-Object Id").Select(i => Convert.ToInt64(i.BaseObject)).ToList();
        Assert.Equal(3, newest.Count);
        Assert.Equal(newest.OrderByDescending(i => i), newest);
        Assert.Equal(_ps.Ok("Get-ExportAuditEvent -Last 500 | Where-Object { $_.Name -in 'one', 'three' } | ForEach-Object Id").Select(i => Convert.ToInt64(i.BaseObject)).Take(3), newest);
        // Piped in one by one, the same names count together too.
        Assert.Equal(newest, _ps.Ok("'one', 'three' | Get-ExportAuditEvent -Last 3 | ForEach-Object Id").Select(i => Convert.ToInt64(i.BaseObject)));
        Assert.Single(_ps.Ok("Get-Export | Get-ExportAuditEvent -Last 1"));
    }

    [Fact]
    public void An_export_piped_into_the_tenant_index_source_and_storage_cmdlets_names_its_own_tenant_index_source_and_storage()
    {
        Sample(50);
        _ps.Ok("New-Export partner-feed -Query '*' -Tenant partner-x -NoRun | Out-Null");
        // The export's Name must not bind: PowerShell prefers a parameter's own name over its aliases.
        var quota = _ps.Ok("Get-Export partner-feed | Set-ExportTenant -MonthlyQuota 2GB").Single();
        Assert.Equal("partner-x", quota.Properties["Tenant"].Value);
        Assert.Equal(2L << 30, (long)_ps.Ok("(Get-ExportQuota partner-x).QuotaBytes").Single().BaseObject);
        Assert.Empty(_ps.Ok("Get-ExportQuota | Where-Object Tenant -eq 'partner-feed'"));
        Assert.Equal("events", _ps.Ok("Get-Export partner-feed | Get-ExportIndex").Single().Properties["Name"].Value);
        Assert.Equal("embedded", _ps.Ok("Get-Export partner-feed | Get-ExportSource").Single().Properties["Name"].Value);
        Assert.Equal("local", _ps.Ok("Get-Export partner-feed | Get-ExportStorage").Single().Properties["Name"].Value);
        Assert.Single(_ps.Ok("Get-Export partner-feed | Test-ExportSource"));
        var unregister = _ps.Run("Get-Export partner-feed | Unregister-ExportStorage -Confirm:$false");
        Assert.Contains("'local' is built in", unregister.Errors.Single().Exception.Message);
        // Objects that carry only a Name still bind through the alias, and -Name still works.
        Assert.Equal("events", _ps.Ok("Get-ExportIndex events | Get-ExportIndex").Single().Properties["Name"].Value);
        Assert.Equal("events", _ps.Ok("Get-ExportIndex -Name events").Single().Properties["Name"].Value);
        Assert.Equal("embedded", _ps.Ok("Get-ExportSource embedded | Get-ExportSource").Single().Properties["Name"].Value);
        Assert.Equal("partner-x", _ps.Ok("Set-ExportTenant -Name partner-x -ConcurrencyLimit 2").Single().Properties["Tenant"].Value);
    }

    /// <summary>Get-Export shows every setting, and piping it into New-Export copies them (compression was lost, as it
    /// bound to no parameter; misp's distribution, the stix cap, -Since, the download window and the caps were not shown).</summary>
    [Fact]
    public void An_export_piped_into_new_export_is_copied_with_every_setting()
    {
        Sample(50);
        _ps.Ok("New-Export feed -Query '*' -Format misp -Distribution Community -Compress -Since LastRun -DownloadWindow 02:00:00 " +
               "-RecordCap 500 -TimeLimit 00:10:00 -NoRun | Out-Null; " +
               "New-Export sheet -Query '*' -Format csv -AllowCsvFormulas -DownloadWindow 0 -NoRun | Out-Null; " +
               "New-Export bundle -Query '*' -Format stix -StixRecordCap 20 -NoRun | Out-Null");
        string[] settings = ["Query", "Index", "Format", "Compression", "Since", "DownloadWindow", "RecordCap", "TimeLimit", "AllowCsvFormulas", "Distribution", "StixRecordCap", "Tenant", "Source", "Storage"];
        foreach (var name in new[] { "feed", "sheet", "bundle" })
        {
            var copy = _ps.Ok($"Get-Export {name} | New-Export -Name {name}-copy -NoRun").Single();
            var original = _ps.Ok($"Get-Export {name}").Single();
            foreach (var setting in settings)
                Assert.True(Equals(original.Properties[setting].Value, copy.Properties[setting].Value),
                    $"{name}.{setting}: {original.Properties[setting].Value} copied as {copy.Properties[setting].Value}");
        }
        var feed = _ps.Ok("Get-Export feed").Single();
        Assert.Equal("gzip", feed.Properties["Compression"].Value);
        Assert.Equal("Community", feed.Properties["Distribution"].Value);
        Assert.Equal("LastRun", feed.Properties["Since"].Value);
        Assert.Equal(TimeSpan.FromHours(2), feed.Properties["DownloadWindow"].Value);
        Assert.Equal(TimeSpan.Zero, _ps.Ok("Get-Export sheet").Single().Properties["DownloadWindow"].Value); // never expires
        Assert.Equal(20L, _ps.Ok("Get-Export bundle").Single().Properties["StixRecordCap"].Value);
        Assert.Contains("contradict", _ps.Run("New-Export bad -Query '*' -Compress -Compression none -NoRun").Errors.Single().ToString());
        // What is typed wins over what the piped export has.
        Assert.Equal("gzip", _ps.Ok("Get-Export sheet | New-Export -Name sheet-gz -Compress -NoRun").Single().Properties["Compression"].Value);
        Assert.Contains("LastRun", _ps.Run("New-Export bad -Query '*' -Since Yesterday -NoRun").Errors.Single().ToString());
    }

    /// <summary>Several exports piped in that share a tenant, source or storage report it once; names come in as strings too.</summary>
    [Fact]
    public void Exports_sharing_a_tenant_source_or_storage_report_it_once()
    {
        Sample(20);
        _ps.Ok("'a', 'b', 'c' | ForEach-Object { New-Export $_ -Query '*' -NoRun | Out-Null }");
        Assert.Single(_ps.Ok("Get-Export | Get-ExportQuota"));
        Assert.Single(_ps.Ok("Get-Export | Get-ExportSource"));
        Assert.Single(_ps.Ok("Get-Export | Get-ExportStorage"));
        Assert.Single(_ps.Ok("Get-ExportSource embedded, emb*"));
        Assert.Equal("embedded", _ps.Ok("'embedded' | Get-ExportSource").Single().Properties["Name"].Value);
        Assert.Equal("local", _ps.Ok("'local' | Get-ExportStorage").Single().Properties["Name"].Value);
        // Schedules run on whole minutes: seconds would be dropped silently.
        Assert.Contains("has seconds", _ps.Run("Set-ExportSchedule a -Daily -At 02:00:30").Errors.Single().ToString());
        Assert.Empty(_ps.Ok("Get-ExportSchedule a"));
    }

    [Fact]
    public void Set_export_changes_only_what_is_given_checks_it_first_and_keeps_name_history_and_schedule()
    {
        Sample(500);
        _ps.Ok("New-Export edit-me -Query 'user.name:alice' -Format csv -Field '@timestamp','user.name' | Out-Null; " +
               "Set-ExportSchedule edit-me -Daily -At 02:00 | Out-Null");
        var changed = _ps.Ok("Get-Export edit-me | Set-Export -Query 'user.name:bob' -Format jsonl -Field @() -Compress -PassThru").Single();
        Assert.Equal(("user.name:bob", "jsonl", "gzip"), ((string)changed.Properties["Query"].Value, (string)changed.Properties["Format"].Value, (string)changed.Properties["Compression"].Value));
        Assert.Empty((string[])changed.Properties["Field"].Value);
        Assert.Equal("events", changed.Properties["Index"].Value);                  // not given: unchanged
        Assert.Equal("Daily · 02:00", changed.Properties["Schedule"].Value);

        var run = _ps.Ok("Start-Export edit-me").Single();
        Assert.EndsWith("edit-me.jsonl.gz", (string)run.Properties["Location"].Value);
        Assert.Empty(_ps.Ok("Receive-ExportFile edit-me -AsObject | Where-Object { $_.user.name -ne 'bob' }"));
        Assert.False(File.Exists(Path.Combine(_ps.Home, "exports", "edit-me", "edit-me.csv")));   // the old format's file went
        Assert.Equal("2", _ps.Ok("(Get-ExportStatus edit-me -History).Count").Single().ToString());

        // Refused before anything changes, and -WhatIf changes nothing.
        var bad = _ps.Run("Set-Export edit-me -Query 'user.name:(' ");
        Assert.StartsWith("InvalidQuery,", bad.ErrorId);
        _ps.Ok("Set-Export edit-me -Query 'user.name:carol' -WhatIf");
        Assert.Equal("user.name:bob", _ps.Ok("(Get-Export edit-me).Query").Single().ToString());
        // Scheduling lifted New-Export's default download window; Set-Export's change is named in full.
        var updates = _ps.Ok("Get-ExportAuditEvent edit-me | Where-Object Event -eq 'EXPORT_UPDATED' | ForEach-Object Detail").Select(d => d.ToString()).ToList();
        Assert.Contains("download window (none): the export is scheduled", updates);
        Assert.Contains(updates, d => d.Contains("query 'user.name:bob'") && d.Contains("format jsonl") && d.Contains("every field") && d.Contains("gzip"));

        // Parameters PowerShell matches case-insensitively are read that way; 0 removes a limit.
        _ps.Ok("Set-Export edit-me -Since lastrun -TimeLimit 00:10:00 -RecordCap 1000 -DownloadWindow 0");
        string[] Updates() => _ps.Ok("Get-ExportAuditEvent edit-me | Where-Object Event -eq 'EXPORT_UPDATED' | ForEach-Object Detail").Select(d => d.ToString()!).ToArray();
        Assert.Contains(Updates(), d => d.Contains("since last run") && d.Contains("time limit 00:10:00") && d.Contains("record cap 1,000"));
        _ps.Ok("Set-Export edit-me -Since '' -TimeLimit 0");
        Assert.Contains(Updates(), d => d.Contains("full range each run") && d.Contains("time limit (none)"));
    }

    [Fact]
    public void Receive_as_object_streams_records_that_where_object_can_filter()
    {
        Sample();
        _ps.Ok("New-Export logins -Query 'event.category:authentication' | Out-Null");
        var alice = _ps.Ok("Receive-ExportFile logins -AsObject | Where-Object { $_.user.name -eq 'alice' }");
        Assert.NotEmpty(alice);
        Assert.All(alice, r => Assert.Equal("alice", ((PSObject)r.Properties["user"].Value).Properties["name"].Value));
        var csv = _ps.Ok("New-Export logins-csv -Query 'event.category:authentication' -Format csv | Out-Null; Receive-ExportFile logins-csv -AsObject | Where-Object { $_.'user.name' -eq 'alice' }");
        Assert.Equal(alice.Count, csv.Count);
    }

    [Fact]
    public void Receive_to_a_destination_returns_the_file_info_and_verifies_it()
    {
        Sample();
        var target = Path.Combine(_ps.Home, "out.jsonl");
        var file = _ps.Ok($"New-Export dl -Query '*' | Out-Null; Receive-ExportFile dl -Destination '{target}'").Single();
        Assert.IsType<FileInfo>(file.BaseObject);
        Assert.Equal(2000, File.ReadLines(target).Count());
        var again = _ps.Run($"Receive-ExportFile dl -Destination '{target}'");
        Assert.Equal("InvalidPath,ExportsPS.Commands.ReceiveExportFileCommand", again.ErrorId);
        _ps.Ok($"Receive-ExportFile dl -Destination '{target}' -Force | Out-Null");
    }

    [Fact]
    public void WhatIf_has_no_side_effects()
    {
        Sample(100);
        _ps.Ok("New-Export keep -Query '*' | Out-Null");
        var before = _ps.Ok("(Get-ExportStatus keep -History).Count").Single();
        _ps.Ok("New-Export wouldbe -Query '*' -WhatIf; Start-Export keep -WhatIf; Remove-Export keep -WhatIf; " +
               "Import-ExportData -Index other -InputObject @{a=1} -WhatIf; New-ExportSampleData -Count 5 -Index other2 -WhatIf; " +
               $"Receive-ExportFile keep -Destination '{Path.Combine(_ps.Home, "w.jsonl")}' -WhatIf");
        Assert.Empty(_ps.Ok("Get-Export wouldbe*"));
        Assert.Equal(before.ToString(), _ps.Ok("(Get-ExportStatus keep -History).Count").Single().ToString());
        Assert.Single(_ps.Ok("Get-Export keep"));
        Assert.Empty(_ps.Ok("Get-ExportIndex other*"));
        Assert.False(File.Exists(Path.Combine(_ps.Home, "w.jsonl")));
    }

    [Fact]
    public void Remove_export_deletes_definition_file_and_history_after_confirmation()
    {
        Sample(100);
        var location = (string)_ps.Ok("New-Export gone -Query '*'").Single().Properties["Location"].Value;
        Assert.True(File.Exists(location));
        _ps.Ok("Remove-Export gone -Confirm:$false");
        Assert.Empty(_ps.Ok("Get-Export gone*"));
        Assert.False(File.Exists(location));
        Assert.Contains("EXPORT_DELETED", _ps.Ok("Get-ExportAuditEvent gone").Select(e => (string)e.Properties["Event"].Value));
    }

    [Fact]
    public void A_run_writes_throttled_progress_records_ending_with_completed()
    {
        Sample(60_000);
        var result = _ps.Run("New-Export progress -Query '*' -Format csv");
        Assert.Empty(result.Errors);
        var progress = result.Progress.Where(p => p.Activity.Contains("progress")).ToList();
        Assert.NotEmpty(progress);
        Assert.Equal(ProgressRecordType.Completed, progress[^1].RecordType);
        // Throttled: at most one record per percentage point (plus phase changes), never one per record.
        Assert.True(progress.Count <= 110, $"{progress.Count} progress records");
        var percents = progress.Where(p => p.RecordType == ProgressRecordType.Processing).Select(p => p.PercentComplete).ToList();
        Assert.Equal(percents.OrderBy(p => p), percents);
    }

    [Fact]
    public void Stopping_the_pipeline_cancels_the_run()
    {
        Sample(150_000);
        using var shell = PowerShell.Create();
        using var runspace = PowerShellSession.OpenRunspace();
        shell.Runspace = runspace;
        shell.AddScript("New-Export stopme -Query '*' -Format csv");
        var async = shell.BeginInvoke();
        SpinWait.SpinUntil(() => shell.Streams.Progress.Any(p => p.PercentComplete > 0), TimeSpan.FromSeconds(60));
        shell.Stop();
        Assert.True(async.IsCompleted);
        var status = _ps.Ok("Get-ExportStatus stopme").Single();
        Assert.Contains(status.Properties["Status"].Value.ToString(), new[] { "Canceled", "Completed" });
        if (status.Properties["Status"].Value.ToString() == "Canceled")
            Assert.Contains("Canceled after", (string)status.Properties["Error"].Value);
    }

    [Fact]
    public void AsJob_returns_a_job_whose_output_is_the_run()
    {
        Sample(500);
        var output = _ps.Ok("$j = New-Export jobbed -Query '*' -AsJob; $j | Wait-Job | Out-Null; $j.State; Receive-Job $j");
        Assert.Equal("Completed", output[0].ToString());
        Assert.Equal("Completed", output[1].Properties["Status"].Value.ToString());
    }

    [Fact]
    public void Import_export_data_loads_pipeline_objects_and_files()
    {
        var file = Path.Combine(_ps.Home, "docs.jsonl");
        File.WriteAllLines(file, ["{\"id\":1,\"msg\":\"hello world\"}", "{\"id\":2,\"msg\":\"bye\"}"]);
        var fromFile = _ps.Ok($"Import-ExportData -Index things -Path '{file}'").Single();
        Assert.Equal(2L, fromFile.Properties["Documents"].Value);
        var fromPipeline = _ps.Ok("@{ id = 3; msg = 'hello again' }, [pscustomobject]@{ id = 4; msg = 'x'; tags = @('a','b') }, '{\"id\":5}' | Import-ExportData -Index things").Single();
        Assert.Equal(5L, fromPipeline.Properties["TotalDocuments"].Value);
        // Resolve-Path's PathInfo names the file, as Get-ChildItem's FileInfo does: its documents, not one {Path: …} document.
        var resolved = _ps.Ok($"$ExecutionContext.SessionState.Path.GetResolvedPSPathFromPSPath('{file}') | Import-ExportData -Index resolved").Single();
        Assert.Equal(2L, resolved.Properties["Documents"].Value);
        var hits = _ps.Ok("New-Export hello -Index things -Query 'msg:hello' | Out-Null; Receive-ExportFile hello -AsObject | ForEach-Object { $_.id }");
        Assert.Equal(["1", "3"], hits.Select(h => h.ToString()).OrderBy(x => x).ToArray());
    }

    [Fact]
    public void Import_export_data_refuses_a_folder_as_a_document_and_passes_over_folders_a_wildcard_matches()
    {
        var logs = Directory.CreateDirectory(Path.Combine(_ps.Home, "logs")).FullName;
        Directory.CreateDirectory(Path.Combine(logs, "archive"));
        File.WriteAllLines(Path.Combine(logs, "a.jsonl"), ["{\"id\":1}", "{\"id\":2}"]);
        var refused = _ps.Run($"Import-ExportData folders -Path '{logs}'");
        Assert.Equal("PathIsFolder,ExportsPS.Commands.ImportExportDataCommand", refused.ErrorId);
        Assert.Contains("is a folder, not a file of documents. Pipe its files instead: Get-ChildItem", (refused.Terminating ?? refused.Errors[0].Exception).Message);
        // A DirectoryInfo (Get-ChildItem lists subfolders) was imported as one document of the folder's properties.
        var passed = _ps.Run($"[System.IO.DirectoryInfo]::new('{logs}') | Import-ExportData folders");
        Assert.Null(passed.Terminating);
        Assert.Empty(passed.Errors);
        Assert.Contains(passed.Warnings, w => w.Contains("is a folder, not a file of documents: passed over"));
        Assert.Empty(_ps.Ok("Get-ExportIndex folders*"));
        var matched = _ps.Ok($"Import-ExportData folders -Path '{Path.Combine(logs, "*")}'").Single();
        Assert.Equal(2L, matched.Properties["Documents"].Value);
    }

    /// <summary>Valid files -AsObject used to stop on: a lone surrogate escape (common in data from JavaScript) in a
    /// value or a key is read as U+FFFD, as everywhere else in the engine; a tiny number stays a number, not 0.</summary>
    [Fact]
    public void As_object_reads_lone_surrogates_and_tiny_numbers()
    {
        var file = Path.Combine(_ps.Home, "odd.jsonl");
        File.WriteAllText(file, "{\"id\":1,\"msg\":\"bad \\ud800 half\",\"tiny\":1e-30,\"\\udc00key\":true}\n");
        _ps.Ok($"Import-ExportData -Index odd -Path '{file}' | Out-Null");
        var record = _ps.Ok("New-Export odd -Index odd -Query '*' -Format jsonl | Out-Null; Receive-ExportFile odd -AsObject").Single();
        Assert.Equal("bad \uFFFD half", record.Properties["msg"].Value);
        Assert.Equal(1e-30, Assert.IsType<double>(record.Properties["tiny"].Value));
        Assert.Equal(true, record.Properties["\uFFFDkey"].Value);
    }

    [Fact]
    public void Get_export_index_lists_fields_and_types()
    {
        Sample(50);
        var index = _ps.Ok("Get-ExportIndex events").Single();
        Assert.Equal(50L, index.Properties["Documents"].Value);
        var mapping = (System.Collections.Specialized.OrderedDictionary)index.Properties["Mapping"].Value;
        Assert.Equal("date", mapping["@timestamp"]);
        Assert.Equal("long", mapping["source.port"]);
        Assert.Equal("text", mapping["user.name"]);
    }

    [Fact]
    public void Export_names_complete_from_the_catalog()
    {
        Sample(10);
        _ps.Ok("New-Export alpha-one -Query '*' -NoRun | Out-Null; New-Export beta -Query '*' -NoRun | Out-Null");
        var completions = _ps.Ok("(TabExpansion2 -inputScript 'Start-Export al' -cursorColumn 15).CompletionMatches | ForEach-Object CompletionText");
        Assert.Equal(["alpha-one"], completions.Select(c => c.ToString()).ToArray());
    }

    [Fact]
    public void Names_complete_by_wildcard_and_unregister_offers_only_what_it_can_remove()
    {
        Sample(10);
        _ps.Ok("New-Export alpha-one -Query '*' -NoRun | Out-Null; New-Export beta-one -Query '*' -NoRun | Out-Null");
        var completions = _ps.Ok("(TabExpansion2 -inputScript 'Get-Export *-one' -cursorColumn 16).CompletionMatches | ForEach-Object CompletionText");
        Assert.Equal(["alpha-one", "beta-one"], completions.Select(c => c.ToString()).Order().ToArray());
        Assert.Empty(_ps.Ok("(TabExpansion2 -inputScript 'Unregister-ExportStorage ' -cursorColumn 25).CompletionMatches"));
        Assert.Empty(_ps.Ok("(TabExpansion2 -inputScript 'Unregister-ExportSource ' -cursorColumn 24).CompletionMatches"));
    }

    /// <summary>A damaged file streamed as objects: nothing unverified reaches the pipeline, the error is ArtifactCorrupt
    /// and non-terminating, and the next export piped in is still received.</summary>
    [Fact]
    public void Receive_as_object_on_a_damaged_file_sends_no_record_and_the_next_export_still_streams()
    {
        Sample(3000);
        _ps.Ok("New-Export gz -Query '*' -Compress | Out-Null; New-Export ok -Query 'user.name:alice' | Out-Null");
        var file = Path.Combine(_ps.Home, "exports", "gz", "gz.jsonl.gz");
        var bytes = File.ReadAllBytes(file);
        for (var i = bytes.Length / 2; i < bytes.Length / 2 + 40; i++) bytes[i] ^= 0x5A;
        File.WriteAllBytes(file, bytes);

        var result = _ps.Run("'gz', 'ok' | Receive-ExportFile -AsObject | ForEach-Object { $_.user.name }");
        Assert.Null(result.Terminating);
        Assert.Equal("ArtifactCorrupt,ExportsPS.Commands.ReceiveExportFileCommand", Assert.Single(result.Errors).FullyQualifiedErrorId);
        Assert.NotEmpty(result.Output);
        Assert.All(result.Output, name => Assert.Equal("alice", name.ToString())); // all from 'ok', none from the damaged file
    }

    [Fact]
    public void Receive_as_object_with_WhatIf_reads_nothing_and_audits_nothing()
    {
        Sample(100);
        _ps.Ok("New-Export quiet -Query '*' | Out-Null");
        Assert.Empty(_ps.Ok("Receive-ExportFile quiet -AsObject -WhatIf"));
        Assert.DoesNotContain("EXPORT_DOWNLOADED", _ps.Ok("Get-ExportAuditEvent quiet | ForEach-Object Event").Select(e => e.ToString()));
    }

    /// <summary>Runs and audit entries piped in bind by RunId (not by the export name they also carry); a name, piped or
    /// given, still gives the latest run; one unknown run id is a non-terminating error.</summary>
    [Fact]
    public void Runs_piped_into_get_export_status_bind_by_run_id()
    {
        Sample(100);
        _ps.Ok("New-Export twice -Query '*' | Out-Null; Start-Export twice | Out-Null");
        var history = _ps.Ok("Get-ExportStatus twice -History | ForEach-Object RunId").Select(r => r.ToString()).ToList();
        Assert.Equal(2, history.Distinct().Count());
        var piped = _ps.Ok("Get-ExportStatus twice -History | Get-ExportStatus | ForEach-Object RunId").Select(r => r.ToString()).ToList();
        Assert.Equal(history.Order(), piped.Order());
        Assert.Equal(history[0], _ps.Ok("'twice' | Get-ExportStatus | ForEach-Object RunId").Single().ToString());
        Assert.Equal(history[0], _ps.Ok("Get-Export twice | Get-ExportStatus | ForEach-Object RunId").Single().ToString());
        Assert.Equal(history[0], _ps.Ok("Get-ExportStatus twice | ForEach-Object RunId").Single().ToString());

        var mixed = _ps.Run($"[pscustomobject]@{{ RunId = 'nope' }}, [pscustomobject]@{{ RunId = '{history[1]}' }} | Get-ExportStatus");
        Assert.Null(mixed.Terminating);
        Assert.Equal("RunNotFound,ExportsPS.Commands.GetExportStatusCommand", Assert.Single(mixed.Errors).FullyQualifiedErrorId);
        Assert.Equal(history[1], mixed.Output.Single().Properties["RunId"].Value);
        Assert.Equal("ParameterArgumentValidationError,ExportsPS.Commands.GetExportStatusCommand", _ps.Run("Get-ExportStatus twice -Wait -Timeout -00:00:02").ErrorId);
    }

    [Fact]
    public void The_scheduler_deletes_expired_files_when_nothing_is_due()
    {
        Sample(50);
        _ps.Ok("New-Export oneoff -Query '*' -DownloadWindow 00:00:01 | Out-Null");
        var file = Path.Combine(_ps.Home, "exports", "oneoff", "oneoff.jsonl");
        Assert.True(File.Exists(file));
        Thread.Sleep(1500);
        _ps.Ok("Invoke-ExportScheduler -WhatIf");
        Assert.True(File.Exists(file));
        _ps.Ok("Invoke-ExportScheduler");
        Assert.False(File.Exists(file));
        Assert.Contains("ARTIFACT_EXPIRED", _ps.Ok("Get-ExportAuditEvent oneoff | ForEach-Object Event").Select(e => e.ToString()));
    }
}
