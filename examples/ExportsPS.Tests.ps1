<#
    How to test a runbook that uses ExportsPS with Pester 5: the embedded source, an isolated data
    folder per test run, fixed sample data, and assertions on the run objects.

    Run with:  Invoke-Pester ./examples/ExportsPS.Tests.ps1
    Note: Pester (and pwsh) are not available in this repository's build environment, so CI does not run
    this file; the same scenarios are covered by tests/ExportsPS.Module.Tests in a hosted engine.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../out/ExportsPS/ExportsPS.psd1') -Force
    # An isolated data folder: nothing leaks into (or from) the machine's real exports.
    $env:EXPORTSPS_HOME = Join-Path $TestDrive 'exportsps'
    # Fixed data: the same seed and end time always give the same documents.
    New-ExportSampleData -Kind Events -Count 2000 -Seed 1 -EndTime '2026-06-19T00:00:00Z' | Out-Null

    # The runbook under test would normally be dot-sourced; inlined here for the example.
    function Invoke-NightlyExport {
        New-Export -Name nightly-failures -Query 'event.outcome:failure' -Format csv -Field '@timestamp', 'user.name', 'source.ip'
    }
}

AfterAll {
    Remove-Item Env:EXPORTSPS_HOME
}

Describe 'Nightly failure export' {
    It 'completes and exports every failure' {
        $run = Invoke-NightlyExport
        $run.Status | Should -Be 'Completed'
        $run.Records | Should -BeGreaterThan 0
        $run.Sha256 | Should -Match '^[0-9a-f]{64}$'
    }

    It 'writes exactly the requested columns' {
        $first = Receive-ExportFile -Name nightly-failures -AsObject | Select-Object -First 1
        $first.PSObject.Properties.Name | Should -Be @('@timestamp', 'user.name', 'source.ip')
    }

    It 'refuses a bad query before doing any work' {
        { New-Export -Name broken -Query 'user.name:(alice' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidQuery,ExportsPS.Commands.NewExportCommand'
        Get-Export -Name 'broken*' | Should -BeNullOrEmpty
    }
}
