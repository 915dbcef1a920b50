<#
.SYNOPSIS
    The main job on the embedded default: sample data in, exports in every format out, a file received
    and its records shown. No cluster, no cloud.
.DESCRIPTION
    Runs with pwsh (Import-Module ./out/ExportsPS/ExportsPS.psd1 first) or, where pwsh is absent, with
    the repo's script host:  dotnet run --project src/ExportsPS.Host -- examples/demo.ps1
    Uses its own data folder (.exportsps-demo/ in the repository) unless $env:EXPORTSPS_HOME is set,
    and starts from a clean slate each time. Only core cmdlets are used, so it runs in the bare host too.
#>
param(
    [long] $Events = 100000,
    [long] $Attributes = 5000
)
$ErrorActionPreference = 'Stop'
$repository = [System.IO.Path]::GetDirectoryName($PSScriptRoot)
if (-not $env:EXPORTSPS_HOME) { $env:EXPORTSPS_HOME = [System.IO.Path]::Combine($repository, '.exportsps-demo') }
if (-not (Get-Command New-Export -ErrorAction SilentlyContinue)) {
    Import-Module ([System.IO.Path]::Combine($repository, 'out', 'ExportsPS', 'ExportsPS.psd1'))
}
"ExportsPS demo - data folder: $env:EXPORTSPS_HOME"
Get-Export | Remove-Export -Force

"`n== 1. Sample data: $Events ECS security events and $Attributes MISP attributes (embedded Lucene.NET index)"
New-ExportSampleData -Kind Events -Count $Events -Replace | Out-Default
New-ExportSampleData -Kind Attributes -Count $Attributes -Replace | Out-Default

"`n== 2. One export per format"
$runs = @(
    New-Export -Name failed-logins   -Query 'event.action:logon-failed AND NOT source.ip:10.*' -Format csv
    New-Export -Name last-day-jsonl  -Query '*' -From 'now-1d/d' -Format jsonl -Compress
    New-Export -Name ssh-json        -Query 'process.name:sshd AND event.outcome:failure' -Format json -Field '@timestamp', 'user.name', 'source.ip', 'message'
    New-Export -Name ioc-attributes  -Index attributes -Query 'to_ids:true AND type:(ip-dst OR domain OR url)' -Format csv
    New-Export -Name ioc-misp        -Index attributes -Query 'to_ids:true' -Format misp -Distribution Community
    New-Export -Name ioc-stix        -Index attributes -Query 'category:"Network activity"' -Format stix
)
$runs | Out-Default

"`n== 3. Every export and its latest run"
Get-Export | Out-Default

"`n== 4. Receive a file (sha256 verified against its manifest)"
$file = Receive-ExportFile -Name failed-logins -Destination $env:EXPORTSPS_HOME -Force
"{0}  {1:N0} bytes" -f $file.FullName, $file.Length

"`n== 5. Records as objects, straight into the pipeline: failed logins from outside, by user"
$byUser = [System.Collections.Generic.SortedDictionary[string, int]]::new()
Receive-ExportFile -Name failed-logins -AsObject | ForEach-Object { $byUser[$_.'user.name'] = 1 + $byUser[$_.'user.name'] }
$byUser.GetEnumerator() | ForEach-Object { [pscustomobject]@{ User = $_.Key; FailedLogins = $_.Value } } | Out-Default
Receive-ExportFile -Name ssh-json -AsObject | Where-Object { $_.user.name -eq 'root' } | ForEach-Object -Begin { $n = 0 } -Process { if ($n++ -lt 3) { $_ } } | Out-Default

"`n== 6. The STIX bundle, object by object: how many of each type"
$types = [System.Collections.Generic.SortedDictionary[string, int]]::new()
Receive-ExportFile -Name ioc-stix -AsObject | ForEach-Object { $types[$_.type] = 1 + $types[$_.type] }
$types.GetEnumerator() | ForEach-Object { [pscustomobject]@{ StixType = $_.Key; Objects = $_.Value } } | Out-Default

"`n== 7. Re-run one export (its file is replaced atomically) and look at its history"
Start-Export -Name failed-logins | Out-Default
Get-ExportStatus -Name failed-logins -History | Out-Default

"`n== 8. The audit trail"
Get-ExportAuditEvent -Last 8 | Out-Default
